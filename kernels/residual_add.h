#pragma once
// Additions that have no fused form: a residual add that is not followed by an RMSNorm, and the
// bias of a matrix product done by cuBLAS.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// x += y, elementwise.
cudaError_t addInPlace(Rows x, Rows y, cudaStream_t stream);

// x[r] += bias for every row r (bias has x.cols values).
cudaError_t addBias(Rows x, const float* bias, cudaStream_t stream);

} // namespace hip::kernels
