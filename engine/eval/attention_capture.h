#pragma once
// The model's real attention inputs for a text: it is run through the model with dense
// attention while the transformer's observer copies every layer's keys (unrotated, as the KV
// cache holds them) and the queries of chosen positions.

#include "eval/eval_common.h"
#include "kv/paged_kv_store.h"

#include <memory>

namespace hip::eval {

class CapturedAttention {
public:
    CapturedAttention(const model::ModelConfig& config, int64_t tokens,
                      std::vector<int64_t> queryPositions);

    // Keys of every layer at positions [0, tokens); the values are left unset.
    const kv::PagedKvStore& keys() const { return keys_; }
    // Captured query positions, ascending.
    const std::vector<int64_t>& queryPositions() const { return positions_; }
    // `count` consecutive captured queries of `layer` from index `first`, one row each (heads x
    // headDim values, unrotated).
    backend::Act queries(int32_t layer, size_t first, int64_t count);

private:
    friend Result<std::unique_ptr<CapturedAttention>>
    captureAttention(Engine& engine, const std::vector<int32_t>& tokens,
                     std::vector<int64_t> queryPositions, const ProgressCallback& progress,
                     const CancelToken& cancel);
    void observe(int32_t layer, int64_t start, backend::Act q, backend::Act k);

    kv::PagedKvStore keys_;
    std::vector<int64_t> positions_;
    int64_t queryFloats_;
    std::vector<std::vector<float>> queries_; // per layer, positions_.size() rows
};

// Runs `tokens` through a fresh session with dense attention (the engine's attention is
// restored afterwards). `queryPositions` must be ascending and inside the text.
Result<std::unique_ptr<CapturedAttention>> captureAttention(Engine& engine,
                                                            const std::vector<int32_t>& tokens,
                                                            std::vector<int64_t> queryPositions,
                                                            const ProgressCallback& progress,
                                                            const CancelToken& cancel);

} // namespace hip::eval
