#pragma once
// Sampling of the next token on the device: the choices of the CPU sampler (runtime::pickToken)
// without copying the logits to the host.

#include "kernels/kernel_types.h"

namespace hip::kernels {

struct SamplingParams {
    float temperature = 0.0f;       // <= 0: greedy
    int32_t topK = 0;               // <= 0 or >= the vocabulary: off
    float topP = 1.0f;              // >= 1: off
    float minP = 0.0f;              // <= 0: off
    float repetitionPenalty = 1.0f; // for the `penalized` ids
};

// The largest vocabulary sampleToken takes: the fixed-point sums assume it.
constexpr int64_t kMaxSampledVocabulary = int64_t(1) << 24;

// Writes to *result the token runtime::pickToken picks from `count` logits with the same options
// and `u` (in [0, 1)): the same token except when u * the kept probability lands within
// rounding of a boundary between two candidates. The repetition penalty is applied in place to
// each distinct id of `penalized` (the caller chooses the window). NaN logits are never chosen;
// when the largest logit is not finite (or every logit is NaN) the result is the argmax (0 when
// every logit is NaN). One block; `count` is at most kMaxSampledVocabulary.
cudaError_t sampleToken(float* logits, int64_t count, const int32_t* penalized,
                        int32_t penalizedCount, const SamplingParams& params, double u,
                        int32_t* result, cudaStream_t stream);

} // namespace hip::kernels
