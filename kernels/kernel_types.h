#pragma once
// Types shared by the kernels' launch functions and their callers. Plain host-side C++: the
// engine's CUDA backend includes these headers from ordinary .cpp files.

#include <cuda_runtime_api.h>

#include <cstdint>

namespace hip::kernels {

// A row-major fp32 matrix in device memory (activations): `rows` by `cols`, rows `stride`
// floats apart.
struct Rows {
    float* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    int64_t stride = 0;
};

// 16-bit storage of the KV cache and of the operands of the prefill matrix products. Values are
// always accumulated in fp32.
enum class Half16 { F16, BF16 };

// Positions per KV cache page. Pages are the unit a page table maps (and that the host tier will
// move): a multiple of every kernel's key tile (16 in decode), so an aligned tile never crosses a
// page, and a divisor of the HiP sink and window sizes.
constexpr int32_t kKvPageTokens = 64;
constexpr int32_t kKvPageShift = 6;
static_assert(kKvPageTokens == 1 << kKvPageShift);

// A KV cache layer in device memory, addressed through a page table (as FlashInfer's paged KV and
// vLLM's block tables): the keys of position j of KV head h lie in page
// pageTable[h * pagesPerHead + j / kKvPageTokens] of the key pool, at row j % kKvPageTokens; the
// values at the same place of the value pool. A page holds kKvPageTokens rows of headDim values.
// Keys are stored rotated at their own positions, so dense attention reads them as they are;
// attention that moves a key to another position rotates it by the difference. Kernels reach rows
// only through kv_pages.cuh: where a page lives is the cache's business.
struct KvLayer {
    void* keys = nullptr;   // key pool: page p starts at element p * kKvPageTokens * headDim
    void* values = nullptr; // value pool, the same layout
    const int32_t* pageTable = nullptr; // device memory, kvHeads * pagesPerHead pool pages
    int32_t pagesPerHead = 0;
    int32_t kvHeads = 0;
    int32_t headDim = 0;
    int64_t capacity = 0; // positions the table maps: pagesPerHead * kKvPageTokens
    Half16 type = Half16::F16;
};

// Head dimensions the attention kernels are built for (HIP_DISPATCH_HEAD_DIM instantiates them).
constexpr bool attentionSupportsHeadDim(int32_t headDim) {
    return headDim == 32 || headDim == 64 || headDim == 96 || headDim == 128;
}

// Rotary embedding angles of every position below maxPosition: cos and sin of
// position * frequency(pair), computed in double precision and rounded once, like the CPU
// reference's table. The angle of a key depends only on its position, so one table serves every
// layer and head; reading it costs 8 bytes per rotated pair.
struct RopeTables {
    const float2* cosSin = nullptr; // [position][pair]
    int32_t dims = 0;               // rotated values per head (pairs = dims / 2)
    bool neox = false;              // pairs (i, i + dims/2) instead of (2i, 2i + 1)
    int64_t maxPosition = 0;
};

} // namespace hip::kernels
