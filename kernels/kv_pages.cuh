#pragma once
// Device-side addressing of a paged KV cache layer (kernels::KvLayer): every kernel reaches key and
// value rows through these, never through a flat offset.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// The page table of one KV head: its pool page for every kKvPageTokens positions.
__device__ __forceinline__ const int32_t* headPages(const KvLayer& kv, int kvHead) {
    return kv.pageTable + int64_t(kvHead) * kv.pagesPerHead;
}

// Element offset, in the key or value pool, of row `position` of the head whose table is
// `pages`, for rows of `headDim` values.
__device__ __forceinline__ int64_t pagedRowOffset(const int32_t* pages, int64_t position,
                                                  int32_t headDim) {
    return (int64_t(pages[position >> kKvPageShift]) * kKvPageTokens +
            (position & (kKvPageTokens - 1))) *
           headDim;
}

__device__ __forceinline__ int64_t kvRowOffset(const KvLayer& kv, int kvHead, int64_t position) {
    return pagedRowOffset(headPages(kv, kvHead), position, kv.headDim);
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
