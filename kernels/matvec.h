#pragma once
// Matrix-vector product for decoding: reads the weights in their block format (they stay
// quantized in device memory), so a token costs one pass over the weight bytes. Block formats
// read x quantized to int8 (quantize_activations.h), float formats read it in fp32. One launch
// takes several matrices that read the same x (q, k and v; gate and up).

#include "kernels/kernel_types.h"
#include "quant/ggml_type.h"

namespace hip::kernels {

// Whether matvec over weights of `type` reads x quantized (the block formats) rather than in
// fp32 (F32, F16, BF16).
bool matvecReadsQuantizedX(quant::GgmlType type);

// The most matrices one matvec launch takes.
constexpr int kMatvecMaxMatrices = 4;

// One matrix of a matvec launch: `rows` weight rows `rowBytes` apart, its bias (may be null) and
// its output y (`rows` floats).
struct MatvecMatrix {
    const void* weight = nullptr;
    int64_t rowBytes = 0;
    int64_t rows = 0;
    const float* bias = nullptr;
    float* y = nullptr;
};

// y[o] = sum_c W[o][c] * x[c] (+ bias[o]) for each of the `count` matrices (1 to
// kMatvecMaxMatrices, rows of `cols` elements in format `type`), in one launch. x is one device
// vector of fp32 values, read for float weights; xq is the same vector quantized by
// quantizeActivations, read for block formats (the other may be null). No y may overlap x or
// another y.
cudaError_t matvec(const MatvecMatrix* matrices, int count, quant::GgmlType type, int64_t cols,
                   const float* x, const void* xq, cudaStream_t stream);

} // namespace hip::kernels
