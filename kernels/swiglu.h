#pragma once
// The SwiGLU gate of the feed-forward block.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// out = silu(gate) * up, elementwise (out may be gate).
cudaError_t swiglu(Rows gate, Rows up, Rows out, cudaStream_t stream);

} // namespace hip::kernels
