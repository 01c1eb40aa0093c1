#pragma once
// Device helpers of HiP's mask estimation shared by its scoring (hip_chunk_scores.cu) and
// selection (hip_mask.cu) kernels.

#include "kernels/device_common.cuh"
#include "kernels/hip_mask.h"

namespace hip::kernels {

// Whether the stage runs at this decode step (always outside decode).
__device__ __forceinline__ bool stageRuns(const HipRefresh& refresh) {
    if (!refresh.step) return true;
    const int32_t step = *refresh.step;
    for (int s = 0; s < refresh.count; ++s)
        if (step % refresh.intervals[s] == 0) return true;
    return false;
}

// Position of row 0 of the call.
__device__ __forceinline__ int64_t firstPosition(const HipQueries& q) {
    return q.length ? int64_t(*q.length) - q.rows : q.firstPosition;
}

__device__ __forceinline__ int32_t blockRowCount(const HipQueries& q, int block) {
    return min(q.blockRows, q.rows - block * q.blockRows);
}

// Where the query sits when scoring: `window` after the representatives, or in the first layers
// (chunk-indexed) at min(first position of the block, chunks + window).
__device__ __forceinline__ int64_t scoringQueryPosition(const HipPruningStage& s, int block,
                                                        int32_t chunks) {
    const int64_t blockFirst = firstPosition(s.queries) + int64_t(block) * s.queries.blockRows;
    return s.chunkIndexed ? min(blockFirst, int64_t(chunks) + s.window.windowTokens)
                          : int64_t(s.window.windowTokens);
}

// Floats in the same order as unsigned integers (0 lies below every float).
__device__ __forceinline__ uint32_t orderedBits(float f) {
    const uint32_t bits = __float_as_uint(f);
    return bits & 0x80000000u ? ~bits : bits | 0x80000000u;
}

// The dimensions of value pair `slot` of a head (slot < headDim / 2): slots below rope.dims / 2
// are the rotary pairs, the rest pair up the unrotated tail.
__device__ __forceinline__ int2 pairDims(const RopeTables& rope, int headDim, int slot) {
    const int pairs = rope.dims / 2;
    if (slot >= pairs) {
        const int first = rope.dims + 2 * (slot - pairs);
        return make_int2(first, first + 1);
    }
    return rope.neox ? make_int2(slot, slot + pairs) : make_int2(2 * slot, 2 * slot + 1);
}

} // namespace hip::kernels
