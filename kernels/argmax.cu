#include "kernels/argmax.h"

#include "kernels/sampling.h"

namespace hip::kernels {

// Greedy sampling is the sampling kernel at temperature 0, without penalties (so nothing is
// written to `values`).
cudaError_t argmax(const float* values, int64_t count, int32_t* result, cudaStream_t stream) {
    return sampleToken(const_cast<float*>(values), count, nullptr, 0, SamplingParams{}, 0.0, result,
                       stream);
}

} // namespace hip::kernels
