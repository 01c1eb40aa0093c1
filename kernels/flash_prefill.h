#pragma once
// Exact causal attention of a block of query rows (prefill), flash style: tensor-core products,
// online softmax, grouped-query attention.

#include "kernels/kernel_types.h"

namespace hip::kernels {

struct PrefillAttention {
    // [heads][q rows][headDim] in kv.type: rotated at the rows' positions and multiplied by the
    // softmax scale times log2(e) (the kernel works in powers of two).
    const void* q = nullptr;
    int64_t qHeadStride = 0; // elements between heads of q
    KvLayer kv;              // key j sits at position j
    int32_t heads = 0;
    int64_t rows = 0;  // query rows
    int64_t start = 0; // position of query row 0: row r attends to keys [0, start + r]
    Rows out;          // rows x heads * headDim
};

// Query rows each warp owns: 32 reuses every key and value fragment for two row tiles (fewer
// shared-memory reads per product), 16 needs fewer registers.
enum class PrefillTile { WarpRows16, WarpRows32 };

// Supports the head dims of attentionSupportsHeadDim.
cudaError_t flashPrefill(const PrefillAttention& attention, cudaStream_t stream,
                         PrefillTile tile = PrefillTile::WarpRows32);

} // namespace hip::kernels
