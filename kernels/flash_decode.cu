#include "kernels/flash_decode.h"

#include "kernels/kv_pages.cuh"
#include "kernels/mma.cuh"
#include "kernels/rotated_query.cuh"

#include <algorithm>

// Split-KV decoding ("flash decoding") on the tensor cores. Block (range, kvHead) reads every key
// and value of its range of positions once, for all query heads of the KV head: those heads are
// the rows of an m16n8k16 product (up to 16; rows past the group are zero), so no dot product
// needs a cross-lane reduction. Each warp streams its own 16-key tiles through shared memory with
// cp.async, kStages tiles in flight; the cache holds rotated keys, so only the query is rotated.
// The warps' partial results meet in shared memory; the ranges are merged by their log-sum-exp
// in the block that finishes last.

namespace hip::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kTileKeys = 16; // keys per warp step: one k-step of P V
static_assert(kKvPageTokens % kTileKeys == 0, "a tile must lie in one KV page");
constexpr int kStages = 2;
constexpr int kMaxRows = 16; // query heads per KV head
// Ranges shorter than this leave splits empty: at short contexts a block's fixed costs and the
// merge's chain over the ranges outweigh spreading the keys wider. Four tiles per warp (256 keys)
// against one (H200, 8 KV heads x 128): 14.5 against 16.0 us at 4K, 10.9 against 17.1 us for 3
// KV heads x 64 at 8K; 11.6 against 9.8 us at 512 keys.
constexpr int64_t kMinRangeKeys = kWarps * kTileKeys * 4;

// The (max, sum) of every partial result, after the heads * splits * D partial outputs.
__device__ __forceinline__ float2* partialStats(const DecodeAttention& a, int d) {
    return reinterpret_cast<float2*>(a.partials + int64_t(a.heads) * a.splits * d);
}

// Keys per range for `length` keys over `splits` ranges.
__device__ __forceinline__ int64_t rangeKeys(int64_t length, int32_t splits) {
    const int64_t keys = (length + splits - 1) / splits;
    return max(kMinRangeKeys, (keys + kTileKeys - 1) / kTileKeys * kTileKeys);
}

// Shared memory of a block: the query tile, then per warp and stage a key tile and a value tile;
// after the loop, the warps' partial results reuse it.
template <int D> struct DecodeLayout {
    static constexpr int kStride = D + 8;             // padded rows: ldmatrix without conflicts
    static constexpr int kTile = kTileKeys * kStride; // elements of a key or value tile
    static constexpr int kStageBytes = 2 * kTile * 2;
    static constexpr int kQueryBytes = kMaxRows * kStride * 2;
    static constexpr int kPipelineBytes = kQueryBytes + kWarps * kStages * kStageBytes;
    static constexpr int kCombineBytes = kWarps * (2 * kMaxRows + kMaxRows * D) * 4;
    static constexpr int kSharedBytes =
        kPipelineBytes > kCombineBytes ? kPipelineBytes : kCombineBytes;
};

template <class T, int D>
__global__ void __launch_bounds__(kThreads, 2) decodeRangeKernel(DecodeAttention a) {
    using Layout = DecodeLayout<D>;
    constexpr int kSteps = D / 16; // k-steps of Q K^T
    constexpr int kChunks = D / 8;
    extern __shared__ __align__(16) unsigned char shared[];
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    T* queryTile = reinterpret_cast<T*>(shared);
    unsigned char* stages = shared + Layout::kQueryBytes + warp * kStages * Layout::kStageBytes;

    const int kvHead = int(blockIdx.y), group = a.heads / a.kv.kvHeads;
    const int64_t length = *a.length;
    const int64_t perRange = rangeKeys(length, a.splits);
    const int64_t begin = int64_t(blockIdx.x) * perRange;
    if (begin >= length) return; // the merge reads only ranges that hold keys
    const int64_t end = min(length, begin + perRange);
    const int rangeTiles = int((end - begin + kTileKeys - 1) / kTileKeys);
    // This warp's tiles: warp, warp + kWarps, ...
    const int myTiles = rangeTiles > warp ? (rangeTiles - warp + kWarps - 1) / kWarps : 0;

    auto tileStart = [&](int j) { return begin + (int64_t(j) * kWarps + warp) * kTileKeys; };
    auto stageKeys = [&](int j) {
        return reinterpret_cast<T*>(stages + (j % kStages) * Layout::kStageBytes);
    };
    // Keys past the range are zero-filled: a zero probability times garbage could be NaN.
    auto load = [&](int j) {
        T* dk = stageKeys(j);
        T* dv = dk + Layout::kTile;
        const int64_t first = tileStart(j);
        // A tile starts at a multiple of kTileKeys, so it lies in one page.
        const int64_t page = kvRowOffset(a.kv, kvHead, first);
#pragma unroll
        for (int i = lane; i < kTileKeys * kChunks; i += 32) {
            const int row = i / kChunks, chunk = i % kChunks;
            const bool valid = first + row < end;
            const int64_t src = valid ? page + row * D + chunk * 8 : 0;
            copyAsync16(dk + row * Layout::kStride + chunk * 8,
                        static_cast<const T*>(a.kv.keys) + src, valid);
            copyAsync16(dv + row * Layout::kStride + chunk * 8,
                        static_cast<const T*>(a.kv.values) + src, valid);
        }
    };
    // One copy group per stage, even without a tile, so that waiting for "all but the newest
    // kStages - 1" always means "tile j has landed".
#pragma unroll
    for (int j = 0; j < kStages; ++j) {
        if (j < myTiles) load(j);
        commitAsyncCopies();
    }

    // The query heads, rotated at the query position and scaled for exp2, as the rows of a tile
    // that every warp reads its A fragments from (rows past the group are zero). The loop is
    // unrolled with predicated loads so that all of them are in flight at once.
    const int g = lane / 4, c = 2 * (lane % 4);
    const float qScale = a.scale * kLog2e;
    constexpr int kQueryValues = kMaxRows * D / kThreads;
    float queryValues[kQueryValues];
#pragma unroll
    for (int k = 0; k < kQueryValues; ++k) {
        const int i = int(threadIdx.x) + k * kThreads, row = i / D, col = i % D;
        queryValues[k] = row < group ? rotatedQueryValue(a.q + (kvHead * group + row) * D, col,
                                                         length - 1, a.rope) *
                                           qScale
                                     : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kQueryValues; ++k) {
        const int i = int(threadIdx.x) + k * kThreads;
        queryTile[(i / D) * Layout::kStride + i % D] = fromFloat<T>(queryValues[k]);
    }
    __syncthreads();
    uint32_t qa[kSteps][4]; // A fragments of the query tile, for every tile of keys
#pragma unroll
    for (int kk = 0; kk < kSteps; ++kk)
        loadMatrixX4(qa[kk], queryTile + (lane % 16) * Layout::kStride + (2 * kk + lane / 16) * 8);

    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    float o[D / 8][4] = {};
    for (int j = 0; j < myTiles; ++j) {
        waitAsyncCopies<kStages - 1>();
        __syncwarp();
        const T* tk = stageKeys(j);
        const T* tv = tk + Layout::kTile;
        const int64_t first = tileStart(j);

        // S = Q K^T, one k-step of 16 dimensions at a time. A K fragment's registers 0, 1 hold
        // key g, registers 2, 3 key g + 8.
        float s[2][4] = {};
#pragma unroll
        for (int kk = 0; kk < kSteps; ++kk) {
            uint32_t b[4];
            loadMatrixX4(b, tk + ((lane / 16) * 8 + lane % 8) * Layout::kStride +
                                (2 * kk + (lane / 8) % 2) * 8);
            mma16816<T>(s[0], qa[kk], b[0], b[1]);
            mma16816<T>(s[1], qa[kk], b[2], b[3]);
        }
        if (first + kTileKeys > end)
#pragma unroll
            for (int nt = 0; nt < 2; ++nt)
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (first + nt * 8 + c + (e & 1) >= end) s[nt][e] = -INFINITY;

                        // Online softmax of rows g (elements 0, 1) and g + 8 (elements 2, 3); each
                        // row's 16 scores sit in a quad of lanes.
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float mx =
                fmaxf(fmaxf(s[0][2 * h], s[0][2 * h + 1]), fmaxf(s[1][2 * h], s[1][2 * h + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, 2));
            const float newMax = fmaxf(m[h], mx); // finite: the tile's first key is valid
            const float correction = exp2Approx(m[h] - newMax);
            m[h] = newMax;
            float sum = 0.0f;
#pragma unroll
            for (int nt = 0; nt < 2; ++nt)
#pragma unroll
                for (int e = 2 * h; e < 2 * h + 2; ++e) {
                    s[nt][e] = exp2Approx(s[nt][e] - newMax);
                    sum += s[nt][e];
                }
            l[h] = l[h] * correction + sum;
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt) {
                o[dt][2 * h] *= correction;
                o[dt][2 * h + 1] *= correction;
            }
        }

        const uint32_t pa[4] = {packPair<T>(s[0][0], s[0][1]), packPair<T>(s[0][2], s[0][3]),
                                packPair<T>(s[1][0], s[1][1]), packPair<T>(s[1][2], s[1][3])};
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
            uint32_t vb[4];
            loadMatrixX4Transposed(vb, tv + (lane % 8 + ((lane / 8) % 2) * 8) * Layout::kStride +
                                           (2 * dp + lane / 16) * 8);
            mma16816<T>(o[2 * dp], pa, vb[0], vb[1]);
            mma16816<T>(o[2 * dp + 1], pa, vb[2], vb[3]);
        }
        __syncwarp(); // every lane is done with this stage before it is refilled
        if (j + kStages < myTiles) load(j + kStages);
        commitAsyncCopies();
    }

    // Merge the warps: per row (query head) the running max, sum and unnormalized output.
    waitAsyncCopies<0>();
    __syncthreads();
    float* warpMax = reinterpret_cast<float*>(shared);
    float* warpSum = warpMax + kWarps * kMaxRows;
    float* warpOut = warpSum + kWarps * kMaxRows;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int row = g + 8 * h;
        float sum = l[h];
        sum += __shfl_xor_sync(kFullMask, sum, 1);
        sum += __shfl_xor_sync(kFullMask, sum, 2);
        if (lane % 4 == 0) {
            warpMax[warp * kMaxRows + row] = m[h];
            warpSum[warp * kMaxRows + row] = sum;
        }
        float* out = warpOut + (warp * kMaxRows + row) * D + c;
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
            blockMax = fmaxf(blockMax, warpMax[w * kMaxRows + row]); // warp 0 had keys
        float sum = 0.0f, value = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
            const float weight = exp2f(warpMax[w * kMaxRows + row] - blockMax);
            sum += warpSum[w * kMaxRows + row] * weight;
            value += warpOut[(w * kMaxRows + row) * D + d] * weight;
        }
        const int64_t slot = int64_t(kvHead * group + row) * a.splits + blockIdx.x;
        a.partials[slot * D + d] = value;
        if (d == 0) partialStats(a, D)[slot] = make_float2(blockMax, sum);
    }

    // The last block of this KV head to finish merges every range's partial results (no second
    // launch); the counter is reset for the next step.
    const int64_t ranges = (length + perRange - 1) / perRange;
    __threadfence();
    __syncthreads();
    __shared__ bool lastBlock;
    if (threadIdx.x == 0) lastBlock = atomicAdd(a.rangesDone + kvHead, 1) == int(ranges) - 1;
    __syncthreads();
    if (!lastBlock) return;
    __threadfence();
    // Per (head, range): the weight 2^(max_r - max) / sum of its partial output, in shared memory
    // (the pipeline's, free now); then each output value is one weighted sum over the ranges.
    // Other blocks wrote the partials: they are read from L2, past this SM's L1.
    float* weights = reinterpret_cast<float*>(shared); // [group][ranges]
    float* sums = weights + group * ranges;            // [group][ranges]
    float* rowMax = sums + group * ranges;             // [group]
    float* rowSum = rowMax + group;                    // [group]
    const int64_t firstSlot = int64_t(kvHead * group) * a.splits;
    for (int i = int(threadIdx.x); i < group * ranges; i += kThreads) {
        const float2 stats =
            __ldcg(partialStats(a, D) + firstSlot + (i / int(ranges)) * a.splits + i % ranges);
        weights[i] = stats.x; // the range's max for now
        sums[i] = stats.y;
    }
    __syncthreads();
    for (int h = int(threadIdx.x); h < group; h += kThreads) {
        float maxScore = -INFINITY, sum = 0.0f;
        for (int64_t r = 0; r < ranges; ++r)
            maxScore = fmaxf(maxScore, weights[h * ranges + r]);
        for (int64_t r = 0; r < ranges; ++r)
            sum += sums[h * ranges + r] * exp2f(weights[h * ranges + r] - maxScore);
        rowMax[h] = maxScore;
        rowSum[h] = sum;
    }
    __syncthreads();
    for (int i = int(threadIdx.x); i < group * ranges; i += kThreads)
        weights[i] = exp2f(weights[i] - rowMax[i / int(ranges)]) / rowSum[i / int(ranges)];
    __syncthreads();
    // Four values per thread in 16-byte loads: the loads of one output are a chain over the
    // ranges, so fewer, wider chains finish sooner.
    constexpr int kQuads = D / 4;
    for (int i = int(threadIdx.x); i < group * kQuads; i += kThreads) {
        const int h = i / kQuads, quad = i % kQuads;
        const float4* values =
            reinterpret_cast<const float4*>(a.partials + (firstSlot + h * a.splits) * D) + quad;
        float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
        for (int64_t r = 0; r < ranges; ++r) {
            const float4 v = __ldcg(values + r * kQuads);
            const float w = weights[h * ranges + r];
            sum = make_float4(fmaf(v.x, w, sum.x), fmaf(v.y, w, sum.y), fmaf(v.z, w, sum.z),
                              fmaf(v.w, w, sum.w));
        }
        float* out = a.out + (kvHead * group + h) * D + 4 * quad;
        out[0] = sum.x;
        out[1] = sum.y;
        out[2] = sum.z;
        out[3] = sum.w;
        if (a.logSumExp && quad == 0)
            a.logSumExp[kvHead * group + h] = rowMax[h] + log2f(rowSum[h]);
    }
    if (threadIdx.x == 0) a.rangesDone[kvHead] = 0;
}

template <class T, int D> cudaError_t launch(const DecodeAttention& a, cudaStream_t stream) {
    constexpr int kSharedBytes = DecodeLayout<D>::kSharedBytes;
    auto kernel = decodeRangeKernel<T, D>;
    // Over 48 KB of shared memory needs an opt-in; once per kernel (it costs host time).
    static const cudaError_t allowed =
        kSharedBytes > 48 * 1024
            ? cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   kSharedBytes)
            : cudaSuccess;
    if (allowed != cudaSuccess) return allowed;
    const dim3 grid(unsigned(a.splits), unsigned(a.kv.kvHeads));
    kernel<<<grid, kThreads, kSharedBytes, stream>>>(a);
    return cudaGetLastError();
}

} // namespace

int32_t decodeSplits(const KvLayer& kv, int32_t multiprocessors) {
    int resident = 1;
    HIP_DISPATCH_HALF16(kv.type, {
        const auto occupancy = [&](auto kernel, int bytes) {
            if (bytes > 48 * 1024)
                cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, kThreads, bytes);
        };
        HIP_DISPATCH_HEAD_DIM(kv.headDim, occupancy(decodeRangeKernel<Elem, kHeadDim>,
                                                    DecodeLayout<kHeadDim>::kSharedBytes));
    });
    const int64_t wave = int64_t(std::max(resident, 1)) * multiprocessors / kv.kvHeads;
    const int64_t atMost = (kv.capacity + kMinRangeKeys - 1) / kMinRangeKeys;
    // The merge keeps a weight per (query head, range) in the block's shared memory.
    int sharedBytes = DecodeLayout<32>::kSharedBytes;
    HIP_DISPATCH_HEAD_DIM(kv.headDim, sharedBytes = DecodeLayout<kHeadDim>::kSharedBytes);
    const int64_t mergeable = (sharedBytes / 4 - 2 * kMaxRows) / (2 * kMaxRows);
    return int32_t(std::max<int64_t>(1, std::min({wave, atMost, mergeable})));
}

cudaError_t flashDecode(const DecodeAttention& a, cudaStream_t stream) {
    const int32_t d = a.kv.headDim;
    const bool ropeOk = a.rope.dims <= d && a.rope.dims % 2 == 0;
    if (!ropeOk || a.heads % a.kv.kvHeads != 0 || a.heads / a.kv.kvHeads > kMaxRows || a.splits < 1)
        return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type,
                        { HIP_DISPATCH_HEAD_DIM(d, result = launch<Elem, kHeadDim>(a, stream)); });
    return result;
}

} // namespace hip::kernels
