#pragma once
// Token embedding lookup: one dequantized table row per token.

#include "kernels/kernel_types.h"
#include "quant/ggml_type.h"

namespace hip::kernels {

// out[t] = row tokens[t] of `table` (rows of `out.cols` elements in format `type`, `rowBytes`
// apart), dequantized to fp32. `tokens` is device memory (out.rows ids).
cudaError_t embed(const void* table, quant::GgmlType type, int64_t rowBytes, const int32_t* tokens,
                  Rows out, cudaStream_t stream);

} // namespace hip::kernels
