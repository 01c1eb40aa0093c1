#pragma once
// Dequantization of weight rows to fp16/bf16, the operand of the cuBLAS prefill products.

#include "kernels/kernel_types.h"
#include "quant/ggml_type.h"

namespace hip::kernels {

// out[r][c] (row-major, `cols` apart) = element c of weight row firstRow + r, for r < rows.
// `weight` holds rows of `cols` elements in format `type`, `rowBytes` apart.
cudaError_t dequantizeRows(const void* weight, quant::GgmlType type, int64_t rowBytes,
                           int64_t firstRow, int64_t rows, int64_t cols, void* out, Half16 outType,
                           cudaStream_t stream);

} // namespace hip::kernels
