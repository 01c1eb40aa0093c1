#pragma once
// fp32 activations to fp16/bf16, the other operand of the cuBLAS prefill products.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// out[r][c] (row-major, x.cols apart) = x[r][c] rounded to `outType`.
cudaError_t convertRows(Rows x, void* out, Half16 outType, cudaStream_t stream);

} // namespace hip::kernels
