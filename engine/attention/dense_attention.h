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

// Adds the attention probabilities of one query row (at `position`, unrotated) over positions
// [0, position], averaged over heads, to mass[key position].
void accumulateDenseMass(const kv::PagedKvStore& store, int32_t layer, int64_t position,
                         const float* q, const backend::AttentionParams& params, const Rope& rope,
                         float* mass);

} // namespace hip::attention
