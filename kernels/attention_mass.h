#pragma once
// The attention trace of dense decoding: how much attention probability each key position got
// from the decoded query, averaged over heads.

#include "kernels/kernel_types.h"

namespace hip::kernels {

struct AttentionMass {
    const float* q = nullptr; // heads * headDim, unrotated; it sits at position *length - 1
    KvLayer kv;
    RopeTables rope; // for the query
    int32_t heads = 0;
    float scale = 1.0f;
    const int32_t* length = nullptr;  // device memory: keys [0, *length)
    const float* logSumExp = nullptr; // per head, from flashDecode of the same query
    float* mass = nullptr;            // mass[j] += sum over heads of p(head, j) / heads
};

// Supports what flashDecode supports; at most 64 query heads.
cudaError_t addAttentionMass(const AttentionMass& args, cudaStream_t stream);

} // namespace hip::kernels
