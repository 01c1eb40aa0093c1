#pragma once
// Exact causal attention on the CPU over the paged KV store: the reference every other attention
// (HiP, CUDA kernels) is measured against. Flash-style: key pages are visited once per query tile
// with an online softmax, so memory stays O(tile) at any context length.

#include "attention/rope.h"
#include "backend/backend.h"
#include "common/thread_pool.h"
#include "kv/paged_kv_store.h"

namespace hip::attention {

// Attention of the query rows `q` (unrotated; row r sits at position start + r; heads x headDim
// values per row) over positions [0, start + r] of `layer`. Writes heads x headDim values per row
// to `out`. `rope` must be prepared up to start + q.rows.
void denseAttention(const kv::PagedKvStore& store, int32_t layer, int64_t start, backend::Act q,
                    const backend::AttentionParams& params, const Rope& rope, backend::Act out,
                    ThreadPool& pool);

// Adds the exact attention probabilities of the query rows `q` (unrotated; row r sits at position
// start + r and sees keys [0, start + r]), averaged over heads, to mass[key position]: each row
// adds 1 in all. Dense whatever attention produced the output, since a trace wants every key's
// share. Keys more than `farDistance` before a row (when positive) are scored at that distance
// instead of their own (exactMassFarDistance says when). `rope` must be prepared up to
// max(start + q.rows, farDistance + 1); memory stays O(rows x page).
void accumulateExactMass(const kv::PagedKvStore& store, int32_t layer, int64_t start,
                         backend::Act q, const backend::AttentionParams& params, const Rope& rope,
                         int64_t farDistance, float* mass, ThreadPool& pool);

// The distance the exact mass scores far keys at in `layer` at a context of `end` tokens (in a
// decode step or a prefill pass): where the layer runs HiP, its window, the distance HiP's pruning
// scores candidates at (relative rope, docs/HIP.md) and about where it places the keys it selects,
// so keys beyond the distances the model was trained on weigh by content as they do for HiP; 0
// (every key at its own distance) where the layer runs dense.
int64_t exactMassFarDistance(const backend::AttentionParams& params, int32_t layer, int64_t end,
                             bool decode);

} // namespace hip::attention
