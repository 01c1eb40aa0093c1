#pragma once
// Writes new keys (unrotated) and values into a KV cache layer.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// Row r of k and v (kvHeads * headDim fp32 values) goes to position positions[r] of every KV
// head of `layer`, rounded to the layer's 16-bit type. `positions` is device memory.
cudaError_t appendKv(Rows k, Rows v, const int32_t* positions, const KvLayer& layer,
                     cudaStream_t stream);

} // namespace hip::kernels
