#pragma once
// A conversation with a loaded model: its KV cache, its messages, and generation.

#include "hip/attention_trace.h"
#include "hip/cancel.h"
#include "hip/generation.h"
#include "hip/status.h"

#include <cstdint>
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

// A document to read: its whole text goes into the context.
struct DocumentInput {
    std::string title;
    std::string text; // UTF-8
};

// The system turn Session::ingest makes of a document: an instruction naming it, then its text.
// A front end that sends a book to a server uses it too, so a remote model is asked the same way.
std::string documentSystemTurn(const DocumentInput& document);

// Byte range [begin, end) of the document text.
struct TextRange {
    uint64_t begin = 0;
    uint64_t end = 0;
};

struct IngestResult {
    int64_t contextTokens = 0;      // tokens in the KV cache after ingest (header included)
    int64_t firstDocumentToken = 0; // KV position of the document's first token
    // One entry per document token, in order (KV position firstDocumentToken + i): the bytes of
    // the document text it stands for. Tokens straddling the header are clipped to the text.
    std::vector<TextRange> documentTokens;
    double seconds = 0;
};

class Session {
public:
    explicit Session(EngineState& engine);
    ~Session();

    // Sets the system prompt (for example the document the questions are about). It becomes the
    // first turn of the conversation; an empty text restores the model's default.
    void setSystemPrompt(std::string text);

    // Puts a whole document into the context as the conversation's system turn (title, then the
    // text), replacing any earlier conversation, and prefills it in chunks with progress
    // (stage "reading", tokens done / total). A document longer than the context is refused
    // with an error that says how much fits; nothing is cut silently.
    Result<IngestResult> ingest(const DocumentInput& document, const ProgressCallback& progress,
                                const CancelToken& cancel = {});

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
    // the model, the key ranges HiP selected per layer (empty when every layer ran dense), and
    // the attention probability mass per key position (dense and HiP).
    const AttentionTrace& trace() const;

    const std::vector<ChatTurn>& history() const;
    // Replaces the conversation after the system turn (to restore a saved chat, or to drop the
    // last answer before regenerating it). The KV cache is kept: the next ask reuses whatever
    // prefix of it the new conversation still shares.
    void setHistory(std::vector<ChatTurn> turns);
    int64_t cachedTokens() const;
    // Forgets the conversation after the system turn and the KV cache past its first `tokens`
    // positions (back to a document just read, after a question asked only to measure it).
    void truncate(int64_t tokens);
    void reset(); // forget the conversation and the KV cache

private:
    std::unique_ptr<SessionState> state_;
};

} // namespace hip
