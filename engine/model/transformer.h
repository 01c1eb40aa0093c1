#pragma once
// The Llama-family decoder (llama, qwen2) written once against the Backend interface.

#include "backend/backend.h"
#include "hip/cancel.h"
#include "hip/status.h"
#include "model/model_config.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace hip::gguf {
class GgufFile;
}

namespace hip::model {

class Transformer {
public:
    // Checks that every tensor the architecture needs is present with the right shape and a
    // supported type, and hands the weights to the backend. `maxBatch` bounds the tokens of one
    // forward call (the prefill chunk); `contextTokens` the positions of a cache (the backend
    // readies attention for them).
    static Result<std::unique_ptr<Transformer>>
    create(const gguf::GgufFile& file, const ModelConfig& config, backend::Backend& backend,
           int32_t maxBatch, int64_t contextTokens, const AttentionConfig& attention,
           const ProgressCallback& progress, const CancelToken& cancel);

    // Runs tokens at positions [start, start + tokens.size()) through the model, appending their
    // keys and values to `cache`. Writes the logits of the last token (or of every token when
    // `allLogits`) to `logits` (tokens x vocab, or vocab). Checks `cancel` between layers.
    Status forward(const std::vector<int32_t>& tokens, int64_t start, backend::KvCache& cache,
                   bool allLogits, std::vector<float>& logits, const CancelToken& cancel);
    // Like forward, but leaves the logits of the last token in backend memory (one row of vocab
    // logits, valid until the next pass), for Backend::sampleToken: decoding then copies a token
    // to the host instead of the vocabulary.
    Result<backend::Act> forwardLast(const std::vector<int32_t>& tokens, int64_t start,
                                     backend::KvCache& cache, const CancelToken& cancel);

    // Sees every layer's queries and new keys (unrotated, before attention) of each forward
    // pass: evaluations read real attention inputs through it. Activations must be host memory
    // (CPU backend).
    using LayerObserver =
        std::function<void(int32_t layer, int64_t start, backend::Act q, backend::Act k)>;
    void setObserver(LayerObserver observer) { observer_ = std::move(observer); }

    const ModelConfig& config() const { return config_; }
    const AttentionConfig& attention() const { return attentionConfig_; }
    // Takes effect at the next forward pass; callers reset KV caches whose masks are stale.
    // Refused when the backend cannot run it.
    Status setAttention(const AttentionConfig& attention);
    // From which context lengths HiP's layers run sparse (Backend::prepareAttention).
    const DenseCrossover& denseCrossover() const { return *attention_.crossover; }
    int32_t maxBatch() const { return maxBatch_; }
    uint64_t weightBytes() const;
    uint64_t scratchBytes() const;
    backend::Backend& backend() { return backend_; }

private:
    struct Layer {
        std::unique_ptr<backend::Weight> attnNorm, wq, wk, wv, wo, bq, bk, bv;
        std::unique_ptr<backend::Weight> ffnNorm, gate, up, down;
    };
    Transformer(const ModelConfig& config, backend::Backend& backend, int32_t maxBatch,
                int64_t contextTokens);
    Status allocateScratch();
    // Makes `attention` the configuration of later passes, readied by the backend.
    Status useAttention(const AttentionConfig& attention);
    // Checks the tokens and runs them through every layer, leaving the hidden states in hidden_.
    Status runLayers(const std::vector<int32_t>& tokens, int64_t start, backend::KvCache& cache,
                     const CancelToken& cancel);
    // The output norm and LM head of hidden_ rows [row, row + rows) (at most logits_.rows), into
    // logits_.
    backend::Act headLogits(int64_t row, int64_t rows);

    ModelConfig config_;
    backend::Backend& backend_;
    int32_t maxBatch_;
    int64_t contextTokens_;
    std::unique_ptr<backend::Weight> tokenEmbedding_, outputNorm_, output_;
    std::vector<Layer> layers_;
    AttentionConfig attentionConfig_;
    LayerObserver observer_;
    backend::AttentionParams attention_; // points at attentionConfig_
    // Activations for up to maxBatch_ tokens.
    std::unique_ptr<backend::Buffer> scratch_;
    backend::Act hidden_, normed_, q_, k_, v_, attnOut_, projected_, gate_, up_, ffnOut_, logits_;
};

} // namespace hip::model
