#pragma once
// A conversation with a loaded model: its KV cache, its messages, and generation.

#include "hip/attention_trace.h"
#include "hip/cancel.h"
#include "hip/generation.h"
#include "hip/status.h"

#include <memory>
#include <string>
#include <vector>

namespace hip {

struct EngineState;
struct SessionState;

struct ChatTurn {
    std::string role; // "system", "user", "assistant"
    std::string content;
};

class Session {
public:
    explicit Session(EngineState& engine);
    ~Session();

    // Sets the system prompt (for example the document the questions are about). It becomes the
    // first turn of the conversation; an empty text restores the model's default.
    void setSystemPrompt(std::string text);

    // Adds `question` as a user turn, renders the conversation with the model's chat template,
    // prefills what the KV cache does not already hold (earlier turns are reused), and streams
    // the answer to `sink`. The answer becomes an assistant turn of the conversation.
    Result<Answer> ask(const std::string& question, const GenerateOptions& options,
                       const TokenSink& sink, const CancelToken& cancel = {});

    // Continues raw text without a chat template (for `generate` and benchmarks).
    Result<Answer> complete(const std::string& prompt, const GenerateOptions& options,
                            const TokenSink& sink, const CancelToken& cancel = {});

    // Runs exactly these tokens after the cached ones and returns the logits of the last one, or
    // of every one (tokens x vocab) when `allLogits`. Used by evaluations and benchmarks.
    Result<std::vector<float>> evaluate(const std::vector<int32_t>& tokens, bool allLogits,
                                        const CancelToken& cancel = {},
                                        const ProgressCallback& progress = {});

    // Where attention went while the last answer was generated: for each token fed back into
    // the model, the key ranges HiP selected per layer (empty when every layer ran dense).
    const AttentionTrace& trace() const;

    const std::vector<ChatTurn>& history() const;
    int64_t cachedTokens() const;
    void reset(); // forget the conversation and the KV cache

private:
    std::unique_ptr<SessionState> state_;
};

} // namespace hip
