#pragma once
// What the evaluations share: the engine's internals, tokenizing, switching attention for the
// length of an evaluation, and where in a context to sample queries.

#include "attention/hip_mask.h"
#include "hip/evaluation.h"
#include "runtime/engine_state.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hip {

// Engine's friend: the evaluations need the model and tokenizer behind the public API.
EngineState& engineState(Engine& engine);

} // namespace hip

namespace hip::eval {

// The text's tokens, without special tokens: a document continues, it does not start a chat.
std::vector<int32_t> tokenize(const EngineState& state, const std::string& text);

// The first `count` tokens of `text`, or an error that says how long the text is.
Result<std::vector<int32_t>> leadingTokens(const EngineState& state, const std::string& text,
                                           int64_t count);

// Lets an evaluation switch the engine's attention; restores the original when destroyed.
class AttentionScope {
public:
    explicit AttentionScope(Engine& engine) : engine_(engine), saved_(engine.attention()) {}
    ~AttentionScope() { (void)engine_.setAttention(saved_); } // saved_ was valid: cannot fail
    AttentionScope(const AttentionScope&) = delete;
    AttentionScope& operator=(const AttentionScope&) = delete;

    Status use(const AttentionConfig& attention) { return engine_.setAttention(attention); }

private:
    Engine& engine_;
    AttentionConfig saved_;
};

// HiP as the evaluations run it: pruning at every length. The engine's dense crossover exists
// for speed; here it would hide what is being measured.
AttentionConfig alwaysPruning(AttentionConfig attention);

// Query rows sharing one mask in prefill: the configuration's query block.
int64_t prefillQueryBlock(const AttentionConfig& config);

// The mask HiP estimates for this query block in prefill (as hip_attention.cpp does). Layers the
// tree mode keeps dense attend every candidate.
attention::BlockMask hipMask(const attention::PruningContext& context,
                             const attention::QueryBlock& query);

// Turns one row of logits over `keys` keys into probabilities.
void softmax(float* row, int64_t keys);

// Up to `count` distinct values evenly spread over [first, last], always including `last`.
std::vector<int64_t> evenlySpread(int64_t first, int64_t last, int32_t count);

// Threads for the evaluations' own computing: as many as the engine uses.
int evaluationThreads(const EngineState& state);

} // namespace hip::eval
