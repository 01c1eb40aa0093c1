#pragma once
// Matrix-vector product for decoding: reads the weights in their block format (they stay
// quantized in device memory), so a token costs one pass over the weight bytes.

#include "kernels/kernel_types.h"
#include "quant/ggml_type.h"

namespace hip::kernels {

// y[o] = sum_c W[o][c] * x[c] (+ bias[o]) for the `rows` weight rows (each of `cols` elements in
// format `type`, `rowBytes` apart). x and y are single device vectors; bias may be null.
cudaError_t matvec(const void* weight, quant::GgmlType type, int64_t rowBytes, int64_t rows,
                   int64_t cols, const float* x, const float* bias, float* y, cudaStream_t stream);

} // namespace hip::kernels
