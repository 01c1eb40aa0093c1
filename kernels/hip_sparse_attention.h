#pragma once
// HiP's block-sparse attention on the GPU (the CPU reference is
// engine/attention/block_sparse_attention.cpp; docs/HIP.md describes the packing). Every query
// row attends, in one softmax, to the sinks, to the keys of its query block's mask that lie
// before its own sliding window, and to its window, with keys at packed positions: the j-th
// visible selected key at distance selectedDistance - j, the t-th visible sink at
// sinkDistance - t, window keys at their true distance (attention::rowLayout). The cache holds
// keys rotated at their own positions; a key moved to another position is rotated by the
// difference.

#include "kernels/hip_types.h"

namespace hip::kernels {

// Chunks a mask may hold (HipChunkLists::capacity): each block keeps its mask in shared memory.
constexpr int32_t kHipMaxMaskChunks = 1024;

struct HipSparseAttention {
    HipQueries queries;
    KvLayer kv;
    RopeTables rope; // covers the queries' true positions and every packed distance
    float scale = 1.0f;
    HipWindow window;
    HipChunkLists mask; // per query block: the selected chunks, before its candidate end
    Rows out;           // queries.rows x heads * headDim
    // Optional, one query row only: mass[key position] += probability / heads for every key the
    // row attended (the attention trace), added to what is there.
    float* mass = nullptr;
};

// Scratch a decode step needs (queries.rows == 1) for `heads` query heads over up to
// `keysPerHead` attended keys (sinks + mask + window), in bytes, 16-byte aligned. The key ranges
// the step is split into follow from kvHeads, keysPerHead and multiprocessors, so hipSparseDecode
// takes the same values (HipDecodeScratch).
uint64_t hipSparseDecodeScratchBytes(int32_t heads, int32_t kvHeads, int32_t headDim,
                                     int64_t keysPerHead, int32_t multiprocessors);

struct HipDecodeScratch {
    void* data = nullptr;    // hipSparseDecodeScratchBytes bytes, zeroed once before first use
    int64_t keysPerHead = 0; // as given to hipSparseDecodeScratchBytes: the mass output covers
                             // this many attended keys (the attention output covers them all)
    int32_t multiprocessors = 0;
};

// Supports the head dims of attentionSupportsHeadDim, rope.dims <= headDim, masks of up to
// kHipMaxMaskChunks chunks (mask.capacity), and `rope` covering every query position (the packed
// distances of a valid mask never exceed the query's own position).

// Readies the kernels for keys of `type` and `headDim` (their shared-memory opt-ins), which must
// happen before a launch is captured into a graph.
cudaError_t hipSparsePrepare(Half16 type, int32_t headDim);

// Prefill (any number of rows, position from queries.firstPosition or queries.length):
// queries.blockRows must be a multiple of 64; `mass` must be null.
cudaError_t hipSparsePrefill(const HipSparseAttention& attention, cudaStream_t stream);
// One query row, its position from queries.length (device memory) or queries.firstPosition; at
// most 16 query heads per KV head. The kernels leave the scratch ready for the next call. Every
// launch is fixed by the arguments (the key count and the mask are read on the device), so a
// decode graph can replay it.
cudaError_t hipSparseDecode(const HipSparseAttention& attention, const HipDecodeScratch& scratch,
                            cudaStream_t stream);

} // namespace hip::kernels
