#pragma once
// What HiP's kernels share (InfiniteHiP, docs/HIP.md): the query rows of one attention call cut
// into query blocks that share a mask, and per query block a list of key chunks, sorted by
// position and disjoint (a pruning stage's input, or the final mask).

#include "kernels/kernel_types.h"

#include <vector_types.h>

#include <cstdint>

namespace hip::kernels {

struct HipQueries {
    const float* q = nullptr; // rows x stride floats: heads * headDim values per row, unrotated
    int64_t stride = 0;
    int32_t rows = 0;
    int32_t heads = 0;
    int32_t blockRows = 64; // rows sharing a mask (the last block may be shorter)
    // Row r sits at position firstPosition + r; in a decode graph the position comes from device
    // memory instead: row r at *length - rows + r.
    int64_t firstPosition = 0;
    const int32_t* length = nullptr;

    int32_t blocks() const { return (rows + blockRows - 1) / blockRows; }
};

// Per query block b: counts[b] chunks [x, y) at chunks[b * capacity ...].
struct HipChunkLists {
    int2* chunks = nullptr;
    int32_t* counts = nullptr;
    int32_t capacity = 0;
};

// Sinks and window of a HiP configuration: always attended, never pruned.
struct HipWindow {
    int32_t sinkTokens = 256;
    int32_t windowTokens = 1024;
};

} // namespace hip::kernels
