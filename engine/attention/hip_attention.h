#pragma once
// One layer of HiP attention on the CPU: masks per query block (multi-stage pruning or the
// tree), then block-sparse attention; in decode, the per-stage mask cache with its nested
// refresh schedule.

#include "attention/block_sparse_attention.h"
#include "attention/hip_mask.h"
#include "common/thread_pool.h"

namespace hip::attention {

// What a session keeps per layer between decode steps.
struct HipLayerState {
    bool valid = false;     // false after a prefill: the next decode step refreshes every stage
    int64_t decodeStep = 0; // decode steps since the last prefill
    std::vector<ChunkList> stageInputs; // the cached input of each stage at its last refresh
    BlockMask mask;                     // the mask of the last decode step
    // Stages recomputed at the last decode step (stage count = all; 0 = mask reused).
    int32_t refreshedStages = 0;
    AttentionConfig builtFor; // the cache is only valid for the config that made it
};

// Rope positions HiP needs for this layer at this context length.
int64_t hipRopePositionsNeeded(const AttentionConfig& config, int32_t layer, int64_t contextTokens);

// Attention of the rows of `q` (positions start...) over the keys of `layer`, written to `out`.
// One row is a decode step (uses and updates `state`, and adds its attention probabilities to
// `mass` when given); more rows are a prefill (resets it). `rope` must be prepared to
// hipRopePositionsNeeded().
void hipAttention(const kv::PagedKvStore& store, int32_t layer, int64_t start, backend::Act q,
                  const backend::AttentionParams& params, const AttentionConfig& config,
                  const Rope& rope, backend::Act out, ThreadPool& pool, HipLayerState& state,
                  float* mass = nullptr);

// The first stage to recompute at decode step `step` (stages.size() when none refreshes).
size_t firstStageToRefresh(const AttentionConfig& config, int64_t step);

} // namespace hip::attention
