#pragma once
// Device-side addressing of a paged KV cache layer (kernels::KvLayer): every kernel reaches key and
// value rows through these, never through a flat offset.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// Element offset, in the key or value pool, of row `position` of KV head `kvHead`.
__device__ __forceinline__ int64_t kvRowOffset(const KvLayer& kv, int kvHead, int64_t position) {
    const int32_t page =
        kv.pageTable[int64_t(kvHead) * kv.pagesPerHead + (position >> kKvPageShift)];
    return ((int64_t(page) << kKvPageShift) + (position & (kKvPageTokens - 1))) * kv.headDim;
}

template <class T>
__device__ __forceinline__ T* keyRow(const KvLayer& kv, int kvHead, int64_t position) {
    return static_cast<T*>(kv.keys) + kvRowOffset(kv, kvHead, position);
}

template <class T>
__device__ __forceinline__ T* valueRow(const KvLayer& kv, int kvHead, int64_t position) {
    return static_cast<T*>(kv.values) + kvRowOffset(kv, kvHead, position);
}

} // namespace hip::kernels
