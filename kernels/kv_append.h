#pragma once
// Writes new keys (rotated at their positions) and values into a KV cache layer.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// Row r of k and v (kvHeads * headDim fp32 values) goes to position positions[r] of every KV
// head of `layer`, rounded to the layer's 16-bit type; the key is rotated at positions[r] first,
// so attention reads keys as they are. `positions` is device memory.
cudaError_t appendKv(Rows k, Rows v, const int32_t* positions, const RopeTables& rope,
                     const KvLayer& layer, cudaStream_t stream);

} // namespace hip::kernels
