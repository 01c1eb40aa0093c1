#pragma once
// RMSNorm, optionally fused with the residual add that precedes it in every transformer layer.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// Per row: out = x / rms(x) * gamma. With `residual` (same shape as x), first x += residual and
// the sum is written back to x: the add then costs no pass of its own.
cudaError_t rmsNorm(Rows x, const Rows* residual, const float* gamma, float eps, Rows out,
                    cudaStream_t stream);

} // namespace hip::kernels
