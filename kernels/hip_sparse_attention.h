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
// `keysPerHead` attended keys (sinks + mask + window), in bytes, 16-byte aligned.
uint64_t hipSparseDecodeScratchBytes(int32_t heads, int32_t kvHeads, int32_t headDim,
                                     int64_t keysPerHead, int32_t multiprocessors);

// Prefill (any number of rows, position from queries.firstPosition or queries.length).
cudaError_t hipSparsePrefill(const HipSparseAttention& attention, cudaStream_t stream);
// One query row, its position from queries.length (device memory) or queries.firstPosition;
// `scratch` of hipSparseDecodeScratchBytes, zeroed once before the first call (the kernels leave
// it ready for the next). Every launch is fixed by the arguments, so a decode graph can replay it.
cudaError_t hipSparseDecode(const HipSparseAttention& attention, void* scratch,
                            cudaStream_t stream);

} // namespace hip::kernels
