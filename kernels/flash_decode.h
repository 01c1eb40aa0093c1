#pragma once
// Exact attention of one query row over the whole KV cache (decoding), split over the keys so
// that long contexts fill the GPU: each block reduces a range of keys for all query heads of one
// KV head, and the last block of each KV head merges the ranges with their log-sum-exp.

#include "kernels/kernel_types.h"

namespace hip::kernels {

struct DecodeAttention {
    const float* q = nullptr; // heads * headDim, unrotated; it sits at position *length - 1
    KvLayer kv;               // key j sits at position j
    RopeTables rope;          // for the query
    int32_t heads = 0;
    float scale = 1.0f;              // softmax scale
    const int32_t* length = nullptr; // device memory: keys [0, *length) are attended
    int32_t splits = 1;              // key ranges (see decodeSplits)
    // heads * splits * (headDim + 2) floats of scratch, 16-byte aligned: the partial outputs,
    // then their (max, sum) pairs
    float* partials = nullptr;
    int* rangesDone = nullptr;  // kv.kvHeads counters, zero before the first call (and after)
    float* out = nullptr;       // heads * headDim
    float* logSumExp = nullptr; // optional, per head: log2 of sum_j 2^(score_j * log2 e)
};

// Key ranges for a cache layer (kvHeads x capacity, head dim and type as in `kv`): one wave of
// blocks filling every multiprocessor of the current device when the cache is full (a second,
// partial wave would idle most of the GPU). The number is fixed per cache, so a captured decode
// graph stays valid as the context grows; a shorter context fills fewer ranges (of at least 64
// keys).
int32_t decodeSplits(const KvLayer& kv, int32_t multiprocessors);

// Supports the head dims of attentionSupportsHeadDim and up to 16 query heads per KV head.
cudaError_t flashDecode(const DecodeAttention& attention, cudaStream_t stream);

} // namespace hip::kernels
