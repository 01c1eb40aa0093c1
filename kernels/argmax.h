#pragma once
// Greedy sampling on the device: the index of the largest logit.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// *result = the smallest index i with values[i] maximal (NaNs are never chosen unless every
// value is NaN, then 0), like std::max_element. `count` is at most kMaxSampledVocabulary
// (sampling.h): it runs the greedy path of the sampling kernel.
cudaError_t argmax(const float* values, int64_t count, int32_t* result, cudaStream_t stream);

} // namespace hip::kernels
