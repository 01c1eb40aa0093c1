#pragma once
// Exact attention logits of captured queries, every key at its true rope position: the
// reference the evaluations hold HiP's choices against.

#include "attention/rope.h"
#include "backend/backend.h"
#include "common/thread_pool.h"
#include "kv/paged_kv_store.h"

#include <vector>

namespace hip::eval {

// Keys [0, tokens) of one layer rotated at their positions, per kv head (tokens x headDim).
class RotatedKeys {
public:
    RotatedKeys(const kv::PagedKvStore& store, int32_t layer, int64_t tokens,
                const attention::Rope& rope, ThreadPool& pool);
    const float* head(int32_t kvHead) const {
        return values_.data() + size_t(kvHead) * size_t(tokens_) * size_t(headDim_);
    }

private:
    int64_t tokens_;
    int32_t headDim_;
    std::vector<float> values_;
};

// logits[r * keyCount + j] = scale * rope(q_r, firstPosition + r) . rope(k_j, j) for the rows of
// `queries` (unrotated, heads x headDim values each) in query head `head`, keys [0, keyCount).
// Keys after a row's own position are computed too; callers ignore them.
void denseLogits(backend::Act queries, int64_t firstPosition, int32_t head, const RotatedKeys& keys,
                 const backend::AttentionParams& params, const attention::Rope& rope,
                 int64_t keyCount, std::vector<float>& logits, std::vector<float>& scratch);

} // namespace hip::eval
