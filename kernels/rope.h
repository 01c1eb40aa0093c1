#pragma once
// Rotary embedding of query rows at arbitrary positions, fused with the conversion to the 16-bit
// head-major layout the prefill attention kernel reads.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// For every row r and head h of x (heads * headDim values per row): rotates the head's first
// rope.dims values as if it sat at positions[r], multiplies by `scale` and stores it at
// out + h * outHeadStride + r * headDim (elements of `outType`). `positions` is device memory.
cudaError_t ropeRows(Rows x, int32_t heads, int32_t headDim, const int32_t* positions,
                     const RopeTables& rope, float scale, void* out, int64_t outHeadStride,
                     Half16 outType, cudaStream_t stream);

} // namespace hip::kernels
