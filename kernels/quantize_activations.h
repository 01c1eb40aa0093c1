#pragma once
// Activations quantized for the matrix-vector products over block-format weights (matvec.h).
// Each row of x is quantized once, and every product that reads the same x reads this copy: per
// 32-value chunk, int8 values q = round(x * 127 / max|x|) with the scale d = max|x| / 127, and the
// sums of q the formats' offsets multiply (their minima and biases act on the sum of x over 16 or
// 32 values).
//
// A quantized row of `cols` values is the cols int8 values, then per chunk a float4
// {d, d * sum(q[0..15]), d * sum(q[16..31]), d * sum(q[0..31])}: 1.5 bytes per value, rows
// quantizedRowBytes(cols) apart (a multiple of 16 bytes).

#include "kernels/kernel_types.h"

namespace hip::kernels {

constexpr int64_t quantizedRowBytes(int64_t cols) {
    return cols + cols / 2;
}

// Quantizes every row of x (cols a multiple of 32, rows 16-byte aligned) into `out`.
cudaError_t quantizeActivations(Rows x, void* out, cudaStream_t stream);

} // namespace hip::kernels
