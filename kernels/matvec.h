#pragma once
// Matrix-vector product for decoding: reads the weights in their block format (they stay
// quantized in device memory), so a token costs one pass over the weight bytes. Block formats
// read x quantized to int8 (quantize_activations.h), float formats read it in fp32.

#include "kernels/kernel_types.h"
#include "quant/ggml_type.h"

namespace hip::kernels {

// Whether matvec over weights of `type` reads x quantized (the block formats) rather than in
// fp32 (F32, F16, BF16).
bool matvecReadsQuantizedX(quant::GgmlType type);

// y[o] = sum_c W[o][c] * x[c] (+ bias[o]) for the `rows` weight rows (each of `cols` elements in
// format `type`, `rowBytes` apart). x is one device vector of fp32 values, read for float
// weights; xq is the same vector quantized by quantizeActivations, read for block formats (the
// other may be null). bias may be null.
cudaError_t matvec(const void* weight, quant::GgmlType type, int64_t rowBytes, int64_t rows,
                   int64_t cols, const float* x, const void* xq, const float* bias, float* y,
                   cudaStream_t stream);

} // namespace hip::kernels
