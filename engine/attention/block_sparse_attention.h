#pragma once
// Block-sparse attention of one query block: the sink tokens, the key ranges of the HiP mask and
// the sliding window, in one softmax. Keys are rotated at packed positions (StreamingLLM style):
// for a query at p, the selected keys it may see and then the sinks are laid out contiguously
// right before its window, so no query-key distance exceeds sinks + selected + window and a model
// can read far past its trained context. When the mask selects every candidate, the packed
// positions are the true positions and the result equals dense attention.

#include "attention/hip_mask.h"

namespace hip::attention {

// How one query row at `position` sees the keys: which selected keys and sinks lie before its
// window, and the distance at which each pass places them. The j-th visible selected key is at
// distance selectedDistance - j, the t-th visible sink at sinkDistance - t, a window key at its
// true distance.
struct RowLayout {
    int64_t visibleSelected = 0; // a prefix of the position-sorted selected keys
    int64_t visibleSinks = 0;
    int64_t windowStart = 0; // first window position
    int64_t selectedDistance = 0;
    int64_t sinkDistance = 0;
};
RowLayout rowLayout(const std::vector<int64_t>& selectedPositions, int64_t position,
                    const AttentionConfig& config);

// Rope positions block-sparse attention needs for masks of up to `selectedTokens` keys.
int64_t sparseRopePositionsNeeded(const AttentionConfig& config, int64_t selectedTokens);

// Writes the attention of every row of `query` for the query heads of `kvHead` to `out` (rows
// aligned with query.rows, heads x headDim values each). When `mass` is given, adds every
// row's probabilities divided by the number of heads to mass[key position].
void blockSparseAttention(const kv::PagedKvStore& store, int32_t layer, const QueryBlock& query,
                          const BlockMask& mask, int32_t kvHead,
                          const backend::AttentionParams& params, const AttentionConfig& config,
                          const Rope& rope, backend::Act out, float* mass = nullptr);

} // namespace hip::attention
