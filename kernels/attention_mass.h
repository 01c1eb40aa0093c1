#pragma once
// The attention trace: how much attention probability each key position got, averaged over heads,
// from the decoded query of dense decoding (addAttentionMass, with the log-sum-exp the decode
// kernel leaves) or from any query rows, computed exactly from scratch (addExactAttentionMass).

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

struct ExactAttentionMass {
    const float* q = nullptr; // rows of heads * headDim, unrotated, qStride floats apart
    int64_t qStride = 0;
    int32_t rows = 0;
    const int32_t* positions = nullptr; // device memory: row r sits at positions[r]
    KvLayer kv;
    RopeTables rope; // for the queries
    int32_t heads = 0;
    float scale = 1.0f;
    // When positive, keys more than this before a row are scored at this distance instead of
    // their own (attention::exactMassFarDistance).
    int64_t farDistance = 0;
    // mass[j] += sum over rows and heads of p(row, head, j) / heads, where row r's
    // probabilities are the dense softmax over keys [0, positions[r]].
    float* mass = nullptr;
};

// Supports the head dimensions of attentionSupportsHeadDim; any number of heads.
cudaError_t addExactAttentionMass(const ExactAttentionMass& args, cudaStream_t stream);

} // namespace hip::kernels
