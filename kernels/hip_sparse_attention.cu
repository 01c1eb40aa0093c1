#include "kernels/hip_sparse_attention.h"

#include "kernels/kv_pages.cuh"
#include "kernels/mma.cuh"
#include "kernels/rotated_query.cuh"

#include <algorithm>

// HiP's block-sparse attention on the tensor cores (m16n8k16, fp32 accumulators, online softmax).
// A row attends to three key sets, each in the order of attention::rowLayout: the sinks, the
// selected keys of its query block's mask and its window. The cache holds every key rotated at
// its own position j, and a score depends only on the distance between the rotations of query and
// key, so each set needs one adjustment:
// - prefill rotates the query rows once per set (at sinkDistance, selectedDistance, their own
//   position): three cheap passes over a 64-row tile. Sinks and window keys are used as stored;
//   a selected key with mask index i is rotated back by j - i (to position i) when its tile lands,
//   so one query rotation serves every selected key. Rotating the query per run of the mask
//   instead would redo the query tile for every chunk (runs of 8 keys in hip-3k's last stage),
//   while the key rotation is done once per tile for all 64 rows.
// - decode has a single row, so it keeps the query at its own position p and rotates each key to
//   p - distance: the window stays as stored, the sinks move by p - sinkDistance and a selected
//   key by p - selectedDistance + i - j, all >= 0 because the attended keys are distinct
//   positions in [0, p].

namespace hip::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// The mask of one query block, copied to shared memory, with the mask index of each chunk's first
// key (an exclusive scan of the chunk lengths).
struct MaskView {
    const int2* chunks = nullptr;
    const int* firstIndex = nullptr;
    int count = 0;
};

__device__ MaskView loadMask(const HipChunkLists& mask, int block, int2* chunks, int* firstIndex) {
    __shared__ int warpTotals[kWarps];
    const int tid = int(threadIdx.x), lane = tid % 32, warp = tid / 32;
    const int count = min(mask.counts[block], mask.capacity);
    const int2* source = mask.chunks + int64_t(block) * mask.capacity;
    // Each thread takes a contiguous run of chunks: its total, then a scan over the threads.
    const int perThread = (count + kThreads - 1) / kThreads;
    const int begin = min(count, tid * perThread), end = min(count, begin + perThread);
    int total = 0;
    for (int c = begin; c < end; ++c) {
        const int2 chunk = source[c];
        chunks[c] = chunk;
        total += max(0, chunk.y - chunk.x);
    }
    int inclusive = total;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const int other = __shfl_up_sync(kFullMask, inclusive, offset);
        if (lane >= offset) inclusive += other;
    }
    if (lane == 31) warpTotals[warp] = inclusive;
    __syncthreads();
    int running = inclusive - total;
    for (int w = 0; w < warp; ++w)
        running += warpTotals[w];
    for (int c = begin; c < end; ++c) {
        firstIndex[c] = running;
        running += max(0, chunks[c].y - chunks[c].x);
    }
    __syncthreads();
    return {chunks, firstIndex, count};
}

// Position of the selected key with mask index `index` (below the mask's key count).
__device__ __forceinline__ int maskPosition(const MaskView& m, int index) {
    int lo = 0, hi = m.count - 1; // the last chunk whose first index is <= index
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (m.firstIndex[mid] <= index)
            lo = mid;
        else
            hi = mid - 1;
    }
    return m.chunks[lo].x + index - m.firstIndex[lo];
}

// Mask keys before `position` (a prefix of the mask, as chunks are sorted and disjoint).
__device__ __forceinline__ int keysBefore(const MaskView& m, int position) {
    int lo = 0, hi = m.count - 1, found = -1; // the last chunk starting before position
    while (lo <= hi) {
        const int mid = (lo + hi) / 2;
        if (m.chunks[mid].x < position) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (found < 0) return 0;
    const int2 chunk = m.chunks[found];
    return m.firstIndex[found] + max(0, min(chunk.y, position) - chunk.x);
}

// attention::rowLayout of one query row.
struct RowLayout {
    int windowStart, visibleSelected, visibleSinks, selectedDistance, sinkDistance;
};

__device__ __forceinline__ RowLayout rowLayout(const MaskView& m, const HipWindow& w,
                                               int position) {
    RowLayout r;
    r.windowStart = max(0, position - w.windowTokens + 1);
    r.visibleSelected = keysBefore(m, r.windowStart);
    r.visibleSinks = min(w.sinkTokens, min(position + 1, r.windowStart));
    r.selectedDistance = w.windowTokens + r.visibleSelected - 1;
    r.sinkDistance = r.selectedDistance + r.visibleSinks;
    return r;
}

// Rotates the first rope.dims values of `rows` key rows of a shared-memory tile (rows `stride`
// apart) by shift[row] positions (backwards when negative); rows with no shift or a position < 0
// are left alone. Threads `first`, `first + step`, ... share the work.
template <class T>
__device__ __forceinline__ void rotateKeyRows(T* tile, int stride, int rows, const int* shift,
                                              const int* position, const RopeTables& rope,
                                              int first, int step) {
    const int halfDims = rope.dims / 2;
    for (int i = first; i < rows * halfDims; i += step) {
        const int row = i / halfDims, pair = i % halfDims;
        const int amount = shift[row];
        if (position[row] < 0 || amount == 0) continue;
        const float2 cs = ropeCosSinSigned(rope, amount, pair);
        const int a = rope.neox ? pair : 2 * pair;
        const int b = rope.neox ? pair + halfDims : 2 * pair + 1;
        T* key = tile + row * stride;
        const float2 r = rotatePair(toFloat(key[a]), toFloat(key[b]), cs);
        key[a] = fromFloat<T>(r.x);
        key[b] = fromFloat<T>(r.y);
    }
}

// One step of the online softmax for this thread's two rows (h = 0: accumulator elements 0 and 1,
// h = 1: elements 2 and 3) over kTiles x 8 scores in log2 units, spread over the 4 lanes of a
// quad: the scores become probabilities and the running sum and output are rescaled. A row that
// sees no key yet keeps a maximum of -inf and adds nothing. The sum stays per lane.
template <int kTiles, int D>
__device__ __forceinline__ void softmaxStep(float (&s)[kTiles][4], float (&o)[D / 8][4],
                                            float (&rowMax)[2], float (&rowSum)[2]) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float m = rowMax[h];
#pragma unroll
        for (int nt = 0; nt < kTiles; ++nt)
            m = fmaxf(m, fmaxf(s[nt][2 * h], s[nt][2 * h + 1]));
        m = fmaxf(m, __shfl_xor_sync(kFullMask, m, 1));
        m = fmaxf(m, __shfl_xor_sync(kFullMask, m, 2));
        const float base = m == -INFINITY ? 0.0f : m;
        const float correction = exp2Approx(rowMax[h] - base);
        rowMax[h] = m;
        float sum = 0.0f;
#pragma unroll
        for (int nt = 0; nt < kTiles; ++nt)
#pragma unroll
            for (int e = 2 * h; e < 2 * h + 2; ++e) {
                s[nt][e] = exp2Approx(s[nt][e] - base);
                sum += s[nt][e];
            }
        rowSum[h] = rowSum[h] * correction + sum;
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt) {
            o[dt][2 * h] *= correction;
            o[dt][2 * h + 1] *= correction;
        }
    }
}

// O += P V over kTiles x 8 keys whose values are rows of a shared-memory tile (`stride` elements
// apart): two neighbouring 8-key accumulator tiles of S form one 16-key A fragment.
template <class T, int kTiles, int D>
__device__ __forceinline__ void accumulateValues(float (&o)[D / 8][4], const float (&s)[kTiles][4],
                                                 const T* values, int stride, int lane) {
#pragma unroll
    for (int kv = 0; kv < kTiles / 2; ++kv) {
        const uint32_t pa[4] = {packPair<T>(s[2 * kv][0], s[2 * kv][1]),
                                packPair<T>(s[2 * kv][2], s[2 * kv][3]),
                                packPair<T>(s[2 * kv + 1][0], s[2 * kv + 1][1]),
                                packPair<T>(s[2 * kv + 1][2], s[2 * kv + 1][3])};
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
            uint32_t vb[4];
            loadMatrixX4Transposed(vb, values +
                                           (kv * 16 + lane % 8 + ((lane / 8) % 2) * 8) * stride +
                                           (2 * dp + lane / 16) * 8);
            mma16816<T>(o[2 * dp], pa, vb[0], vb[1]);
            mma16816<T>(o[2 * dp + 1], pa, vb[2], vb[3]);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Prefill: block (head, tile of 64 rows). Four warps of 16 rows; the key tiles (64 keys) of the
// three sets follow each other: sinks [0, S), selected [0, N) and window [windowBase, last], S
// and N being what the tile's last row sees; a row masks what it may not see.

constexpr int kPrefillRows = kWarps * 16;
constexpr int kKeyTile = 64;

enum Set { kSinks = 0, kSelected = 1, kWindow = 2 };

template <int D> struct PrefillLayout {
    static constexpr int kStride = D + 8; // padded rows: ldmatrix without bank conflicts
    static constexpr int kTile = kKeyTile * kStride;
    static constexpr int kQueryBytes = kPrefillRows * kStride * 2;
    static constexpr int kTileBytes = 4 * kTile * 2; // keys and values, two buffers each
    static constexpr int kMaskBytes = kHipMaxMaskChunks * (8 + 4);
    static constexpr int kSharedBytes = kQueryBytes + kTileBytes + kMaskBytes;
};

template <class T, int D>
__global__ void __launch_bounds__(kThreads, 2) prefillKernel(HipSparseAttention a) {
    using Layout = PrefillLayout<D>;
    constexpr int kChunks = D / 8;
    constexpr int kStride = Layout::kStride;
    extern __shared__ __align__(16) unsigned char shared[];
    T* sQ = reinterpret_cast<T*>(shared);
    T* sK = sQ + kPrefillRows * kStride; // two buffers
    T* sV = sK + 2 * Layout::kTile;      // two buffers
    int2* maskChunks = reinterpret_cast<int2*>(shared + Layout::kQueryBytes + Layout::kTileBytes);
    int* maskFirst = reinterpret_cast<int*>(maskChunks + kHipMaxMaskChunks);
    // Per row of the tile: its layout; per key tile (three in flight): positions (-1 past the
    // set's end) and the shift back to the mask index (selected keys).
    __shared__ RowLayout rows[kPrefillRows];
    __shared__ int keyPosition[3][kKeyTile];
    __shared__ int keyShift[3][kKeyTile];

    const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;
    const int head = int(blockIdx.x);
    const int kvHead = head / (a.queries.heads / a.kv.kvHeads);
    const int firstRow = int(blockIdx.y) * kPrefillRows;
    const int validRows = min(kPrefillRows, a.queries.rows - firstRow);
    const int firstPosition =
        int(a.queries.length ? *a.queries.length - a.queries.rows : a.queries.firstPosition) +
        firstRow;
    const int lastPosition = firstPosition + validRows - 1;

    const MaskView mask =
        loadMask(a.mask, firstRow / a.queries.blockRows, maskChunks, maskFirst); // syncs
    if (tid < kPrefillRows) rows[tid] = rowLayout(mask, a.window, firstPosition + tid);
    __syncthreads();
    const RowLayout last = rows[validRows - 1];
    const int windowBase = rows[0].windowStart;
    const int sinkKeys = last.visibleSinks, selectedKeys = last.visibleSelected;
    const int windowKeys = lastPosition - windowBase + 1;
    const int sinkTiles = (sinkKeys + kKeyTile - 1) / kKeyTile;
    const int selectedTiles = (selectedKeys + kKeyTile - 1) / kKeyTile;
    const int tiles = sinkTiles + selectedTiles + (windowKeys + kKeyTile - 1) / kKeyTile;
    auto setOf = [&](int t) {
        return t < sinkTiles ? kSinks : t < sinkTiles + selectedTiles ? kSelected : kWindow;
    };
    auto firstIndexOf = [&](int t) { // of the tile's first key within its set
        const int set = setOf(t);
        return (t - (set > kSinks ? sinkTiles : 0) - (set > kSelected ? selectedTiles : 0)) *
               kKeyTile;
    };
    // Threads 0..63 place key `tid` of tile t.
    auto placeKey = [&](int t) {
        const int set = setOf(t), index = firstIndexOf(t) + tid;
        int position = -1, shift = 0;
        const int setKeys = set == kSinks ? sinkKeys : set == kSelected ? selectedKeys : windowKeys;
        if (index < setKeys) {
            if (set == kSinks) position = index;
            if (set == kWindow) position = windowBase + index;
            if (set == kSelected) {
                position = maskPosition(mask, index);
                shift = index - position; // back to position `index`
            }
        }
        keyPosition[t % 3][tid] = position;
        keyShift[t % 3][tid] = shift;
    };
    // Keys past the set's end are zero-filled: a zero probability times garbage could be NaN.
    auto loadTile = [&](int t) {
        T* dk = sK + (t & 1) * Layout::kTile;
        T* dv = sV + (t & 1) * Layout::kTile;
        const int* positions = keyPosition[t % 3];
        for (int i = tid; i < kKeyTile * kChunks; i += kThreads) {
            const int row = i / kChunks, chunk = i % kChunks;
            const int position = positions[row];
            const int64_t src = kvRowOffset(a.kv, kvHead, max(position, 0)) + chunk * 8;
            copyAsync16(dk + row * kStride + chunk * 8, static_cast<const T*>(a.kv.keys) + src,
                        position >= 0);
            copyAsync16(dv + row * kStride + chunk * 8, static_cast<const T*>(a.kv.values) + src,
                        position >= 0);
        }
        commitAsyncCopies();
    };
    // The query tile rotated for a key set, scaled for exp2; rows past the tile are zero.
    const float qScale = a.scale * kLog2e;
    auto buildQueries = [&](int set) {
        for (int i = tid; i < kPrefillRows * D; i += kThreads) {
            const int row = i / D, dim = i % D;
            float value = 0.0f;
            if (row < validRows) {
                // A set the row does not see gets position 0: its distance may lie past the
                // rotary table (rows before the end of the first window).
                const RowLayout& r = rows[row];
                const int position = set == kSinks ? (r.visibleSinks > 0 ? r.sinkDistance : 0)
                                     : set == kSelected
                                         ? (r.visibleSelected > 0 ? r.selectedDistance : 0)
                                         : firstPosition + row;
                const float* q =
                    a.queries.q + int64_t(firstRow + row) * a.queries.stride + int64_t(head) * D;
                value = rotatedQueryValue(q, dim, position, a.rope) * qScale;
            }
            sQ[row * kStride + dim] = fromFloat<T>(value);
        }
    };

    if (tid < kKeyTile) {
        placeKey(0);
        if (tiles > 1) placeKey(1);
    }
    __syncthreads();
    loadTile(0);

    // This thread's rows (g and g + 8 of its warp's 16) and the key indices of the current set
    // they may see: [visibleBegin, visibleEnd).
    const int warpRow = warp * 16;
    int visibleBegin[2] = {0, 0}, visibleEnd[2] = {0, 0};
    float o[D / 8][4] = {};
    float rowMax[2] = {-INFINITY, -INFINITY}, rowSum[2] = {0.0f, 0.0f};

    for (int t = 0; t < tiles; ++t) {
        const int set = setOf(t);
        const bool newSet = t == 0 || set != setOf(t - 1);
        T* tk = sK + (t & 1) * Layout::kTile;
        const T* tv = sV + (t & 1) * Layout::kTile;
        waitAsyncCopies<0>();
        __syncthreads(); // tile t landed; every warp is done with tile t - 1
        if (t + 2 < tiles && tid < kKeyTile) placeKey(t + 2);
        if (newSet) buildQueries(set);
        if (set == kSelected)
            rotateKeyRows(tk, kStride, kKeyTile, keyShift[t % 3], keyPosition[t % 3], a.rope, tid,
                          kThreads);
        if (newSet || set == kSelected) __syncthreads();
        if (t + 1 < tiles) loadTile(t + 1);
        if (newSet)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int row = warpRow + lane / 4 + 8 * h;
                const RowLayout& r = rows[row];
                visibleBegin[h] = set == kWindow ? r.windowStart - windowBase : 0;
                visibleEnd[h] = set == kSinks      ? r.visibleSinks
                                : set == kSelected ? r.visibleSelected
                                                   : firstPosition + row - windowBase + 1;
            }

        // S = Q K^T in log2 units.
        float s[kKeyTile / 8][4] = {};
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            uint32_t qa[4];
            loadMatrixX4(qa, sQ + (warpRow + lane % 16) * kStride + (2 * kk + lane / 16) * 8);
#pragma unroll
            for (int np = 0; np < kKeyTile / 16; ++np) {
                uint32_t kb[4];
                loadMatrixX4(kb, tk + (np * 16 + (lane / 16) * 8 + lane % 8) * kStride +
                                     (2 * kk + (lane / 8) % 2) * 8);
                mma16816<T>(s[2 * np], qa, kb[0], kb[1]);
                mma16816<T>(s[2 * np + 1], qa, kb[2], kb[3]);
            }
        }
        const int firstKey = firstIndexOf(t);
#pragma unroll
        for (int nt = 0; nt < kKeyTile / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = firstKey + nt * 8 + 2 * (lane % 4) + (e & 1), h = e / 2;
                if (key < visibleBegin[h] || key >= visibleEnd[h]) s[nt][e] = -INFINITY;
            }

        softmaxStep<kKeyTile / 8, D>(s, o, rowMax, rowSum);
        accumulateValues<T, kKeyTile / 8, D>(o, s, tv, kStride, lane);
    }

#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float sum = rowSum[h];
        sum += __shfl_xor_sync(kFullMask, sum, 1);
        sum += __shfl_xor_sync(kFullMask, sum, 2);
        const int row = warpRow + lane / 4 + 8 * h;
        if (row >= validRows) continue;
        const float inverse = 1.0f / sum; // every row sees at least its own key
        float* dst = a.out.data + int64_t(firstRow + row) * a.out.stride + int64_t(head) * D +
                     2 * (lane % 4);
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt)
            *reinterpret_cast<float2*>(dst + dt * 8) =
                make_float2(o[dt][2 * h] * inverse, o[dt][2 * h + 1] * inverse);
    }
}

// Over 48 KB of shared memory needs an opt-in, once per kernel (it costs host time), and outside a
// graph capture (hipSparsePrepare makes it before a decode step is captured).
template <class T, int D> cudaError_t allowPrefillShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(prefillKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             PrefillLayout<D>::kSharedBytes);
    return allowed;
}

template <class T, int D> cudaError_t launchPrefill(const HipSparseAttention& a, cudaStream_t s) {
    constexpr int kSharedBytes = PrefillLayout<D>::kSharedBytes;
    auto kernel = prefillKernel<T, D>;
    if (const cudaError_t allowed = allowPrefillShared<T, D>(); allowed != cudaSuccess)
        return allowed;
    const dim3 grid(unsigned(a.queries.heads),
                    unsigned((a.queries.rows + kPrefillRows - 1) / kPrefillRows));
    kernel<<<grid, kThreads, kSharedBytes, s>>>(a);
    return cudaGetLastError();
}

// ------------------------------------------------------------------------------------------------
// Decode: block (key range, KV head), as flash_decode.cu: the query heads of the KV head are the
// rows of the products (up to 16), each warp streams its own 16-key tiles, and the last block of
// a KV head merges the ranges by their log-sum-exp. Keys are numbered in the row's layout order
// (sinks, visible selected keys, window), so the ranges split the attended keys evenly.

constexpr int kDecodeTile = 16;
constexpr int kStages = 2;
constexpr int kMaxGroup = 16;
// Ranges of fewer keys leave splits empty: a block's fixed costs (the mask in shared memory, the
// query rotation) outweigh spreading a few keys wider.
constexpr int64_t kMinRangeKeys = kWarps * kDecodeTile * 2;
// The merge keeps a weight and a sum per (query head, range) in the block's shared memory.
constexpr int32_t kMaxSplits = 128;

int32_t decodeSplits(int32_t kvHeads, int64_t keysPerHead, int32_t multiprocessors) {
    // Two resident blocks per multiprocessor (the shared memory allows two): one wave.
    const int64_t wave = std::max<int64_t>(1, 2 * int64_t(multiprocessors) / std::max(kvHeads, 1));
    const int64_t needed = (keysPerHead + kMinRangeKeys - 1) / kMinRangeKeys;
    return int32_t(std::clamp<int64_t>(std::min(wave, needed), 1, kMaxSplits));
}

// Scratch: partial outputs [heads][splits][D], their (max, sum) [heads][splits], a counter per KV
// head, then the scores of the mass output [heads][keysPerHead], each part 16-byte aligned.
struct DecodeScratch {
    float* partials;
    float2* stats;
    int* rangesDone;
    float* scores;
};

struct DecodeScratchOffsets {
    uint64_t stats, rangesDone, scores;
};

uint64_t align16(uint64_t bytes) {
    return (bytes + 15) / 16 * 16;
}

DecodeScratchOffsets decodeScratchOffsets(int heads, int kvHeads, int d, int splits) {
    DecodeScratchOffsets o;
    o.stats = align16(uint64_t(heads) * uint64_t(splits) * uint64_t(d) * 4);
    o.rangesDone = o.stats + align16(uint64_t(heads) * uint64_t(splits) * 8);
    o.scores = o.rangesDone + align16(uint64_t(kvHeads) * 4);
    return o;
}

template <int D> struct DecodeLayout {
    static constexpr int kStride = D + 8;
    static constexpr int kTile = kDecodeTile * kStride;
    static constexpr int kStageBytes = 2 * kTile * 2;
    static constexpr int kQueryBytes = kMaxGroup * kStride * 2;
    static constexpr int kPipelineBytes = kQueryBytes + kWarps * kStages * kStageBytes;
    static constexpr int kCombineBytes = kWarps * (2 * kMaxGroup + kMaxGroup * D) * 4;
    static constexpr int kWorkBytes =
        kPipelineBytes > kCombineBytes ? kPipelineBytes : kCombineBytes;
    static constexpr int kMaskBytes = kHipMaxMaskChunks * (8 + 4);
    static constexpr int kSharedBytes = kWorkBytes + kMaskBytes;
};

static_assert(2 * kMaxGroup * (kMaxSplits + 1) * 4 <= DecodeLayout<32>::kWorkBytes,
              "the merge of the largest split fits the smallest head dim's shared memory");

template <class T, int D>
__global__ void __launch_bounds__(kThreads, 2)
    decodeKernel(HipSparseAttention a, DecodeScratch scratch, int splits, int keysPerHead) {
    using Layout = DecodeLayout<D>;
    constexpr int kChunks = D / 8;
    constexpr int kStride = Layout::kStride;
    extern __shared__ __align__(16) unsigned char shared[];
    int2* maskChunks = reinterpret_cast<int2*>(shared + Layout::kWorkBytes);
    int* maskFirst = reinterpret_cast<int*>(maskChunks + kHipMaxMaskChunks);
    // Per warp and stage: the positions (-1 past the range) and rotations of the tile's keys.
    __shared__ int keyPosition[kWarps][kStages][kDecodeTile];
    __shared__ int keyShift[kWarps][kStages][kDecodeTile];

    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    T* queryTile = reinterpret_cast<T*>(shared);
    unsigned char* stages = shared + Layout::kQueryBytes + warp * kStages * Layout::kStageBytes;
    const int kvHead = int(blockIdx.y), heads = a.queries.heads, group = heads / a.kv.kvHeads;

    const int position = int(a.queries.length ? *a.queries.length - 1 : a.queries.firstPosition);
    const MaskView mask = loadMask(a.mask, 0, maskChunks, maskFirst); // syncs
    const RowLayout layout = rowLayout(mask, a.window, position);
    const int sinks = layout.visibleSinks, selected = layout.visibleSelected;
    const int keys = sinks + selected + position - layout.windowStart + 1;
    int perRange = (keys + splits - 1) / splits;
    perRange = max(int(kMinRangeKeys), (perRange + kDecodeTile - 1) / kDecodeTile * kDecodeTile);
    const int begin = int(blockIdx.x) * perRange;
    if (begin >= keys) return; // the merge reads only ranges that hold keys
    const int end = min(keys, begin + perRange);
    const int rangeTiles = (end - begin + kDecodeTile - 1) / kDecodeTile;
    const int myTiles = rangeTiles > warp ? (rangeTiles - warp + kWarps - 1) / kWarps : 0;

    auto tileStart = [&](int j) { return begin + (j * kWarps + warp) * kDecodeTile; };
    auto stageKeys = [&](int j) {
        return reinterpret_cast<T*>(stages + (j % kStages) * Layout::kStageBytes);
    };
    // Key `index` of the layout order: its position and the rotation that moves it to
    // position - distance.
    auto placeKey = [&](int index, int& keyPos, int& shift) {
        if (index < sinks) {
            keyPos = index;
            shift = position - layout.sinkDistance;
        } else if (index < sinks + selected) {
            const int i = index - sinks;
            keyPos = maskPosition(mask, i);
            shift = position - layout.selectedDistance + i - keyPos;
        } else {
            keyPos = layout.windowStart + index - sinks - selected;
            shift = 0;
        }
    };
    auto load = [&](int j) {
        T* dk = stageKeys(j);
        T* dv = dk + Layout::kTile;
        const int first = tileStart(j);
        int* positions = keyPosition[warp][j % kStages];
        if (lane < kDecodeTile) {
            int keyPos = -1, shift = 0;
            if (first + lane < end) placeKey(first + lane, keyPos, shift);
            positions[lane] = keyPos;
            keyShift[warp][j % kStages][lane] = shift;
        }
        __syncwarp();
        for (int i = lane; i < kDecodeTile * kChunks; i += 32) {
            const int row = i / kChunks, chunk = i % kChunks;
            const int keyPos = positions[row];
            const int64_t src = kvRowOffset(a.kv, kvHead, max(keyPos, 0)) + chunk * 8;
            copyAsync16(dk + row * kStride + chunk * 8, static_cast<const T*>(a.kv.keys) + src,
                        keyPos >= 0);
            copyAsync16(dv + row * kStride + chunk * 8, static_cast<const T*>(a.kv.values) + src,
                        keyPos >= 0);
        }
    };
#pragma unroll
    for (int j = 0; j < kStages; ++j) {
        if (j < myTiles) load(j);
        commitAsyncCopies();
    }

    // The query heads at the query position, scaled for exp2, as the rows of a tile (rows past
    // the group are zero).
    const int g = lane / 4, c = 2 * (lane % 4);
    const float qScale = a.scale * kLog2e;
    for (int i = int(threadIdx.x); i < kMaxGroup * D; i += kThreads) {
        const int row = i / D, col = i % D;
        const float value = row < group
                                ? rotatedQueryValue(a.queries.q + int64_t(kvHead * group + row) * D,
                                                    col, position, a.rope) *
                                      qScale
                                : 0.0f;
        queryTile[row * kStride + col] = fromFloat<T>(value);
    }
    __syncthreads();
    uint32_t qa[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk)
        loadMatrixX4(qa[kk], queryTile + (lane % 16) * kStride + (2 * kk + lane / 16) * 8);

    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    float o[D / 8][4] = {};
    for (int j = 0; j < myTiles; ++j) {
        waitAsyncCopies<kStages - 1>();
        __syncwarp();
        T* tk = stageKeys(j);
        const T* tv = tk + Layout::kTile;
        const int first = tileStart(j);
        rotateKeyRows(tk, kStride, kDecodeTile, keyShift[warp][j % kStages],
                      keyPosition[warp][j % kStages], a.rope, lane, 32);
        __syncwarp();

        float s[2][4] = {};
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            uint32_t b[4];
            loadMatrixX4(b, tk + ((lane / 16) * 8 + lane % 8) * kStride +
                                (2 * kk + (lane / 8) % 2) * 8);
            mma16816<T>(s[0], qa[kk], b[0], b[1]);
            mma16816<T>(s[1], qa[kk], b[2], b[3]);
        }
#pragma unroll
        for (int nt = 0; nt < 2; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = first + nt * 8 + c + (e & 1), row = g + 8 * (e / 2);
                if (key >= end) {
                    s[nt][e] = -INFINITY;
                } else if (a.mass && row < group && key < keysPerHead) {
                    scratch.scores[int64_t(kvHead * group + row) * keysPerHead + key] = s[nt][e];
                }
            }

        softmaxStep<2, D>(s, o, m, l);
        accumulateValues<T, 2, D>(o, s, tv, kStride, lane);
        __syncwarp(); // every lane is done with this stage before it is refilled
        if (j + kStages < myTiles) load(j + kStages);
        commitAsyncCopies();
    }

    // Merge the warps: per row (query head) the running max, sum and unnormalized output.
    waitAsyncCopies<0>();
    __syncthreads();
    float* warpMax = reinterpret_cast<float*>(shared);
    float* warpSum = warpMax + kWarps * kMaxGroup;
    float* warpOut = warpSum + kWarps * kMaxGroup;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h;
        float sum = l[h];
        sum += __shfl_xor_sync(kFullMask, sum, 1);
        sum += __shfl_xor_sync(kFullMask, sum, 2);
        if (lane % 4 == 0) {
            warpMax[warp * kMaxGroup + row] = m[h];
            warpSum[warp * kMaxGroup + row] = sum;
        }
        float* out = warpOut + (warp * kMaxGroup + row) * D + c;
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt) {
            out[dt * 8] = o[dt][2 * h];
            out[dt * 8 + 1] = o[dt][2 * h + 1];
        }
    }
    __syncthreads();
    for (int i = int(threadIdx.x); i < group * D; i += kThreads) {
        const int row = i / D, d = i % D;
        float blockMax = -INFINITY;
#pragma unroll
        for (int w = 0; w < kWarps; ++w)
            blockMax = fmaxf(blockMax, warpMax[w * kMaxGroup + row]); // warp 0 had keys
        float sum = 0.0f, value = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
            const float weight = exp2f(warpMax[w * kMaxGroup + row] - blockMax);
            sum += warpSum[w * kMaxGroup + row] * weight;
            value += warpOut[(w * kMaxGroup + row) * D + d] * weight;
        }
        const int64_t slot = int64_t(kvHead * group + row) * splits + blockIdx.x;
        scratch.partials[slot * D + d] = value;
        if (d == 0) scratch.stats[slot] = make_float2(blockMax, sum);
    }

    // The last block of this KV head to finish merges every range (no second launch) and resets
    // the counter for the next step.
    const int ranges = (keys + perRange - 1) / perRange;
    __threadfence();
    __syncthreads();
    __shared__ bool lastBlock;
    if (threadIdx.x == 0) lastBlock = atomicAdd(scratch.rangesDone + kvHead, 1) == ranges - 1;
    __syncthreads();
    if (!lastBlock) return;
    __threadfence();
    // Other blocks wrote the partials: they are read from L2, past this SM's L1.
    float* weights = reinterpret_cast<float*>(shared); // [group][ranges]
    float* sums = weights + group * ranges;            // [group][ranges]
    float* rowMax = sums + group * ranges;             // [group]
    float* rowSum = rowMax + group;                    // [group]
    const int64_t firstSlot = int64_t(kvHead * group) * splits;
    for (int i = int(threadIdx.x); i < group * ranges; i += kThreads) {
        const float2 stats = __ldcg(scratch.stats + firstSlot + (i / ranges) * splits + i % ranges);
        weights[i] = stats.x; // the range's max for now
        sums[i] = stats.y;
    }
    __syncthreads();
    for (int h = int(threadIdx.x); h < group; h += kThreads) {
        float maxScore = -INFINITY, sum = 0.0f;
        for (int r = 0; r < ranges; ++r)
            maxScore = fmaxf(maxScore, weights[h * ranges + r]);
        for (int r = 0; r < ranges; ++r)
            sum += sums[h * ranges + r] * exp2f(weights[h * ranges + r] - maxScore);
        rowMax[h] = maxScore;
        rowSum[h] = sum;
    }
    __syncthreads();
    for (int i = int(threadIdx.x); i < group * ranges; i += kThreads)
        weights[i] = exp2f(weights[i] - rowMax[i / ranges]) / rowSum[i / ranges];
    __syncthreads();
    constexpr int kQuads = D / 4;
    for (int i = int(threadIdx.x); i < group * kQuads; i += kThreads) {
        const int h = i / kQuads, quad = i % kQuads;
        const float4* values =
            reinterpret_cast<const float4*>(scratch.partials + (firstSlot + h * splits) * D) + quad;
        float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
        for (int r = 0; r < ranges; ++r) {
            const float4 v = __ldcg(values + r * kQuads);
            const float w = weights[h * ranges + r];
            sum = make_float4(fmaf(v.x, w, sum.x), fmaf(v.y, w, sum.y), fmaf(v.z, w, sum.z),
                              fmaf(v.w, w, sum.w));
        }
        float* out = a.out.data + int64_t(kvHead * group + h) * D + 4 * quad;
        out[0] = sum.x;
        out[1] = sum.y;
        out[2] = sum.z;
        out[3] = sum.w;
    }
    // The attention trace: every attended key's probability summed over this KV head's query
    // heads, divided by all heads.
    if (a.mass)
        for (int key = int(threadIdx.x); key < min(keys, keysPerHead); key += kThreads) {
            float p = 0.0f;
            for (int h = 0; h < group; ++h)
                p +=
                    exp2f(__ldcg(scratch.scores + int64_t(kvHead * group + h) * keysPerHead + key) -
                          rowMax[h]) /
                    rowSum[h];
            int keyPos, shift;
            placeKey(key, keyPos, shift);
            atomicAdd(a.mass + keyPos, p / float(heads));
        }
    if (threadIdx.x == 0) scratch.rangesDone[kvHead] = 0;
}

template <class T, int D> cudaError_t allowDecodeShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(decodeKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             DecodeLayout<D>::kSharedBytes);
    return allowed;
}

template <class T, int D>
cudaError_t launchDecode(const HipSparseAttention& a, const HipDecodeScratch& s,
                         cudaStream_t stream) {
    constexpr int kSharedBytes = DecodeLayout<D>::kSharedBytes;
    auto kernel = decodeKernel<T, D>;
    if (const cudaError_t allowed = allowDecodeShared<T, D>(); allowed != cudaSuccess)
        return allowed;
    const int splits = decodeSplits(a.kv.kvHeads, s.keysPerHead, s.multiprocessors);
    const DecodeScratchOffsets offsets =
        decodeScratchOffsets(a.queries.heads, a.kv.kvHeads, D, splits);
    unsigned char* base = static_cast<unsigned char*>(s.data);
    const DecodeScratch scratch{reinterpret_cast<float*>(base),
                                reinterpret_cast<float2*>(base + offsets.stats),
                                reinterpret_cast<int*>(base + offsets.rangesDone),
                                reinterpret_cast<float*>(base + offsets.scores)};
    const dim3 grid(unsigned(splits), unsigned(a.kv.kvHeads));
    kernel<<<grid, kThreads, kSharedBytes, stream>>>(a, scratch, splits, int(s.keysPerHead));
    return cudaGetLastError();
}

bool validShapes(const HipSparseAttention& a) {
    const int32_t d = a.kv.headDim;
    return attentionSupportsHeadDim(d) && a.kv.kvHeads > 0 && a.queries.heads % a.kv.kvHeads == 0 &&
           a.rope.dims <= d && a.rope.dims % 2 == 0 && a.mask.capacity >= 0 &&
           a.mask.capacity <= kHipMaxMaskChunks &&
           a.queries.stride >= int64_t(a.queries.heads) * d && a.out.stride % 2 == 0 &&
           a.window.windowTokens > 0 && a.window.sinkTokens >= 0;
}

} // namespace

uint64_t hipSparseDecodeScratchBytes(int32_t heads, int32_t kvHeads, int32_t headDim,
                                     int64_t keysPerHead, int32_t multiprocessors) {
    const int32_t splits = decodeSplits(kvHeads, keysPerHead, multiprocessors);
    return align16(decodeScratchOffsets(heads, kvHeads, headDim, splits).scores +
                   uint64_t(heads) * uint64_t(keysPerHead) * 4);
}

cudaError_t hipSparsePrefill(const HipSparseAttention& a, cudaStream_t stream) {
    if (a.queries.rows == 0) return cudaSuccess;
    if (!validShapes(a) || a.queries.blockRows % kPrefillRows != 0 || a.queries.blockRows <= 0 ||
        a.mass)
        return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        HIP_DISPATCH_HEAD_DIM(a.kv.headDim, result = launchPrefill<Elem, kHeadDim>(a, stream));
    });
    return result;
}

cudaError_t hipSparseDecode(const HipSparseAttention& a, const HipDecodeScratch& scratch,
                            cudaStream_t stream) {
    if (!validShapes(a) || a.queries.rows != 1 || a.queries.heads / a.kv.kvHeads > kMaxGroup ||
        !scratch.data || scratch.keysPerHead < 1 || scratch.multiprocessors < 1)
        return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        HIP_DISPATCH_HEAD_DIM(a.kv.headDim,
                              result = launchDecode<Elem, kHeadDim>(a, scratch, stream));
    });
    return result;
}

cudaError_t hipSparsePrepare(Half16 type, int32_t headDim) {
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(type, {
        HIP_DISPATCH_HEAD_DIM(headDim, {
            result = allowPrefillShared<Elem, kHeadDim>();
            if (result == cudaSuccess) result = allowDecodeShared<Elem, kHeadDim>();
        });
    });
    return result;
}

} // namespace hip::kernels
