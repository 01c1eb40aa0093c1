#include "kernels/hip_mask.h"

#include "kernels/kv_pages.cuh"
#include "kernels/rotated_query.cuh"

#include <algorithm>

// Scoring: a block holds, in shared memory, the scoring query rows (averaged and rotated) of some
// query heads of one query block; each warp takes chunks and runs SelectRep for every head of the
// block. A key is rotated from its stored position to its scoring position into a warp buffer,
// and each lane takes query rows, so a score is a lane's own dot product and one warp maximum.
// Scores of head sets that do not fit one block are combined with atomicMax on order-preserving
// integers. Selection: a block per query block sorts (score, index) pairs with a bitonic sort in
// shared memory, flags the best, and writes the kept chunks (cut for the next stage) in position
// order through a prefix sum of their piece counts.

namespace hip::kernels {
namespace {

constexpr int kScoreWarps = 4;
constexpr int kChunksPerWarp = 4;
constexpr int kChunksPerBlock = kScoreWarps * kChunksPerWarp;
constexpr int kSelectThreads = 1024;
// Scoring queries a block may hold in shared memory.
constexpr int kMaxQueryBytes = 96 * 1024;

__device__ __forceinline__ bool stageRuns(const HipRefresh& refresh) {
    if (!refresh.step) return true;
    const int32_t step = *refresh.step;
    for (int s = 0; s < refresh.count; ++s)
        if (step % refresh.intervals[s] == 0) return true;
    return false;
}

// Position of row 0 of the call.
__device__ __forceinline__ int64_t firstPosition(const HipQueries& q) {
    return q.length ? int64_t(*q.length) - q.rows : q.firstPosition;
}

__device__ __forceinline__ int32_t blockRowCount(const HipQueries& q, int block) {
    return min(q.blockRows, q.rows - block * q.blockRows);
}

__device__ __forceinline__ int64_t candidateEnd(const HipQueries& q, const HipWindow& w,
                                                int block) {
    const int64_t last =
        firstPosition(q) + int64_t(block) * q.blockRows + blockRowCount(q, block) - 1;
    return max(int64_t(w.sinkTokens), last + 1 - w.windowTokens);
}

// Floats in the same order as unsigned integers (0 lies below every float).
__device__ __forceinline__ uint32_t orderedBits(float f) {
    const uint32_t bits = __float_as_uint(f);
    return bits & 0x80000000u ? ~bits : bits | 0x80000000u;
}
__global__ void initialChunksKernel(HipQueries queries, HipWindow window, int32_t chunkSize,
                                    HipChunkLists chunks, HipRefresh refresh) {
    if (!stageRuns(refresh)) return;
    const int block = int(blockIdx.x);
    const int64_t begin = window.sinkTokens, end = candidateEnd(queries, window, block);
    const int64_t chunkCount = end > begin ? (end - begin + chunkSize - 1) / chunkSize : 0;
    const int32_t count = int32_t(min(chunkCount, int64_t(chunks.capacity)));
    int2* out = chunks.chunks + int64_t(block) * chunks.capacity;
    for (int32_t i = int32_t(threadIdx.x); i < count; i += int32_t(blockDim.x)) {
        const int64_t first = begin + int64_t(i) * chunkSize;
        out[i] = make_int2(int(first), int(min(first + chunkSize, end)));
    }
    if (threadIdx.x == 0) chunks.counts[block] = count;
}

struct ScoreLayout {
    int32_t headsPerBlock;
    int32_t rows; // scoring rows per head: blockRows / queryStride, rounded up
};

template <class T, int D>
__global__ void __launch_bounds__(kScoreWarps * 32)
    scoreKernel(HipPruningStage s, ScoreLayout layout, int32_t* scores) {
    if (!stageRuns(s.refresh)) return;
    constexpr int kStride = D + 1; // a lane per row: padded rows avoid bank conflicts
    extern __shared__ float shared[];
    float* queries = shared; // [head in block][row][kStride]
    float* keyBuffers = queries + layout.headsPerBlock * layout.rows * kStride;

    const int block = int(blockIdx.z);
    const int32_t count = s.input.counts[block];
    const int firstChunk = int(blockIdx.x) * kChunksPerBlock;
    if (firstChunk >= count) return;
    const int firstHead = int(blockIdx.y) * layout.headsPerBlock;
    const int heads = min(layout.headsPerBlock, s.queries.heads - firstHead);
    const int group = s.queries.heads / s.kv.kvHeads;
    const int blockRows = blockRowCount(s.queries, block);
    const int rows = (blockRows + s.queryStride - 1) / s.queryStride;
    const int64_t blockFirst = firstPosition(s.queries) + int64_t(block) * s.queries.blockRows;
    const int64_t queryRope = s.chunkIndexed
                                  ? min(blockFirst, int64_t(count) + s.window.windowTokens)
                                  : int64_t(s.window.windowTokens);

    // The scoring rows: the block's query rows averaged in groups of queryStride, then rotated.
    for (int i = int(threadIdx.x); i < heads * rows * D; i += blockDim.x) {
        const int h = i / (rows * D), r = (i / D) % rows, d = i % D;
        const int first = r * s.queryStride, n = min(s.queryStride, blockRows - first);
        const float* q = s.queries.q +
                         (int64_t(block) * s.queries.blockRows + first) * s.queries.stride +
                         int64_t(firstHead + h) * D + d;
        float sum = 0.0f;
        for (int k = 0; k < n; ++k)
            sum += q[int64_t(k) * s.queries.stride];
        queries[(h * layout.rows + r) * kStride + d] = sum / float(n);
    }
    __syncthreads();
    const int pairs = s.rope.dims / 2;
    for (int i = int(threadIdx.x); i < heads * rows * pairs; i += blockDim.x) {
        const int hr = i / pairs, pair = i % pairs;
        float* row = queries + ((hr / rows) * layout.rows + hr % rows) * kStride;
        const int first = s.rope.neox ? pair : 2 * pair;
        const int second = s.rope.neox ? pair + pairs : 2 * pair + 1;
        const float2 r = rotatePair(row[first], row[second], ropeCosSin(s.rope, queryRope, pair));
        row[first] = r.x;
        row[second] = r.y;
    }
    __syncthreads();

    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    float* key = keyBuffers + warp * D;
    // Score of `position` for head h (of the block) with the key moved to `target`.
    auto score = [&](int h, int64_t position, int64_t target) {
        const T* stored = keyRow<const T>(s.kv, (firstHead + h) / group, position);
        for (int d = lane; d < D; d += 32)
            key[d] = rotatedQueryValue(stored, d, target - position, s.rope);
        __syncwarp();
        float best = -INFINITY;
        for (int r = lane; r < rows; r += 32) {
            const float* q = queries + (h * layout.rows + r) * kStride;
            float dot = 0.0f;
#pragma unroll 8
            for (int d = 0; d < D; ++d)
                dot = fmaf(q[d], key[d], dot);
            best = fmaxf(best, dot);
        }
        best = warpMax(best);
        __syncwarp(); // the buffer is rewritten by the next key
        return best;
    };

    for (int k = 0; k < kChunksPerWarp; ++k) {
        const int c = firstChunk + warp * kChunksPerWarp + k;
        if (c >= count) break;
        const int2 chunk = s.input.chunks[int64_t(block) * s.input.capacity + c];
        const int64_t leftRope = s.chunkIndexed ? c : 0, rightRope = s.chunkIndexed ? c : 1;
        float chunkScore = -INFINITY;
        for (int h = 0; h < heads; ++h) {
            int64_t left = chunk.x, right = chunk.y;
            if (right - left == 1) {
                chunkScore = fmaxf(chunkScore, score(h, left, leftRope));
                continue;
            }
            float best = -INFINITY;
            while (right - left >= 2) {
                const int64_t middle = (left + right) / 2;
                const float leftScore = score(h, (left + middle) / 2, leftRope);
                const float rightScore = score(h, (middle + right) / 2, rightRope);
                if (leftScore >= rightScore) {
                    right = middle;
                    best = fmaxf(best, leftScore);
                } else {
                    left = middle;
                    best = fmaxf(best, rightScore);
                }
            }
            chunkScore = fmaxf(chunkScore, best);
        }
        if (lane == 0)
            atomicMax(reinterpret_cast<unsigned*>(scores) + int64_t(block) * s.input.capacity + c,
                      orderedBits(chunkScore));
    }
}

// Exclusive prefix sum over the block of `value`; every thread also gets the total.
__device__ __forceinline__ int32_t blockExclusiveSum(int32_t value, int32_t& total,
                                                     int32_t* warpTotals) {
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    int32_t inclusive = value;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const int32_t other = __shfl_up_sync(kFullMask, inclusive, offset);
        if (lane >= offset) inclusive += other;
    }
    if (lane == 31) warpTotals[warp] = inclusive;
    __syncthreads();
    int32_t before = 0;
    total = 0;
    for (int w = 0; w < kSelectThreads / 32; ++w) {
        if (w < warp) before += warpTotals[w];
        total += warpTotals[w];
    }
    __syncthreads();
    return before + inclusive - value;
}

__global__ void __launch_bounds__(kSelectThreads) selectKernel(HipPruningStage s) {
    if (!stageRuns(s.refresh)) return;
    extern __shared__ unsigned long long order[]; // (inverted score, index), ascending
    __shared__ int32_t warpTotals[kSelectThreads / 32];
    unsigned char* kept = reinterpret_cast<unsigned char*>(order + kHipMaxStageChunks);

    const int block = int(blockIdx.x);
    const int32_t count = s.input.counts[block];
    const int2* input = s.input.chunks + int64_t(block) * s.input.capacity;
    const unsigned* scores =
        reinterpret_cast<const unsigned*>(s.scores) + int64_t(block) * s.input.capacity;
    if (count <= s.keepChunks) {
        for (int i = int(threadIdx.x); i < count; i += kSelectThreads)
            kept[i] = 1;
    } else {
        int n = 1;
        while (n < count)
            n <<= 1;
        // Ascending order of (~score, index): the best score first, ties to the earlier chunk.
        for (int i = int(threadIdx.x); i < n; i += kSelectThreads)
            order[i] = i < count ? (static_cast<unsigned long long>(~scores[i]) << 32) | unsigned(i)
                                 : ~0ull;
        __syncthreads();
        for (int size = 2; size <= n; size <<= 1)
            for (int stride = size / 2; stride > 0; stride >>= 1) {
                for (int i = int(threadIdx.x); i < n; i += kSelectThreads) {
                    const int j = i ^ stride;
                    if (j > i) {
                        const bool ascending = (i & size) == 0;
                        const unsigned long long a = order[i], b = order[j];
                        if ((a > b) == ascending) {
                            order[i] = b;
                            order[j] = a;
                        }
                    }
                }
                __syncthreads();
            }
        for (int i = int(threadIdx.x); i < count; i += kSelectThreads)
            kept[i] = 0;
        __syncthreads();
        for (int i = int(threadIdx.x); i < s.keepChunks; i += kSelectThreads)
            kept[order[i] & 0xffffffffu] = 1;
    }
    __syncthreads();

    // Each thread cuts a run of consecutive chunks; a prefix sum of their pieces places them.
    const int perThread = (count + kSelectThreads - 1) / kSelectThreads;
    const int first = int(threadIdx.x) * perThread, last = min(count, first + perThread);
    auto pieces = [&](int i) {
        if (!kept[i]) return 0;
        const int length = input[i].y - input[i].x;
        return s.nextChunkSize ? (length + s.nextChunkSize - 1) / s.nextChunkSize : 1;
    };
    int32_t mine = 0;
    for (int i = first; i < last; ++i)
        mine += pieces(i);
    int32_t total = 0;
    int32_t at = blockExclusiveSum(mine, total, warpTotals);
    int2* output = s.output.chunks + int64_t(block) * s.output.capacity;
    for (int i = first; i < last; ++i) {
        if (!kept[i]) continue;
        const int2 chunk = input[i];
        const int piece = s.nextChunkSize ? s.nextChunkSize : chunk.y - chunk.x;
        for (int begin = chunk.x; begin < chunk.y && at < s.output.capacity; begin += piece)
            output[at++] = make_int2(begin, min(begin + piece, chunk.y));
    }
    if (threadIdx.x == 0) s.output.counts[block] = min(total, s.output.capacity);
}

__global__ void advanceStepKernel(int32_t* step) {
    *step += 1;
}

// Over 48 KB of shared memory needs an opt-in, once per kernel, and outside a graph capture
// (hipMaskPrepare makes it before a decode step is captured).
template <class T, int D> cudaError_t allowScoreShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(scoreKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             kMaxQueryBytes + kScoreWarps * D * int(sizeof(float)));
    return allowed;
}
constexpr int kSelectShared = kHipMaxStageChunks * (8 + 1);
cudaError_t allowSelectShared() {
    static const cudaError_t allowed = cudaFuncSetAttribute(
        selectKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSelectShared);
    return allowed;
}

template <class T, int D> cudaError_t launchScores(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t rows = (s.queries.blockRows + s.queryStride - 1) / s.queryStride;
    const int rowBytes = rows * (D + 1) * int(sizeof(float));
    ScoreLayout layout;
    layout.rows = rows;
    layout.headsPerBlock = std::max(1, std::min(s.queries.heads, kMaxQueryBytes / rowBytes));
    const int sharedBytes = layout.headsPerBlock * rowBytes + kScoreWarps * D * int(sizeof(float));
    auto kernel = scoreKernel<T, D>;
    if (const cudaError_t allowed = allowScoreShared<T, D>(); allowed != cudaSuccess)
        return allowed;
    const dim3 grid(unsigned((s.input.capacity + kChunksPerBlock - 1) / kChunksPerBlock),
                    unsigned((s.queries.heads + layout.headsPerBlock - 1) / layout.headsPerBlock),
                    unsigned(s.queries.blocks()));
    kernel<<<grid, kScoreWarps * 32, sharedBytes, stream>>>(s, layout,
                                                            reinterpret_cast<int32_t*>(s.scores));
    return cudaGetLastError();
}

} // namespace

cudaError_t hipInitialChunks(const HipQueries& queries, const HipWindow& window, int32_t chunkSize,
                             const HipChunkLists& chunks, const HipRefresh& refresh,
                             cudaStream_t stream) {
    if (chunkSize < 1 || queries.blocks() < 1) return cudaErrorInvalidValue;
    initialChunksKernel<<<unsigned(queries.blocks()), 256, 0, stream>>>(queries, window, chunkSize,
                                                                        chunks, refresh);
    return cudaGetLastError();
}

cudaError_t hipPruneStage(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t d = s.kv.headDim;
    if (s.input.capacity > kHipMaxStageChunks || s.keepChunks < 1 || s.queryStride < 1 ||
        s.queries.blocks() < 1 || s.queries.heads % s.kv.kvHeads != 0 ||
        s.refresh.count > HipRefresh::kMaxStages)
        return cudaErrorInvalidValue;
    // Unscored chunks stay at 0, below every score.
    const uint64_t scoreBytes = uint64_t(s.queries.blocks()) * uint64_t(s.input.capacity) * 4u;
    cudaError_t result = cudaMemsetAsync(s.scores, 0, scoreBytes, stream);
    if (result != cudaSuccess) return result;
    result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(
        s.kv.type, { HIP_DISPATCH_HEAD_DIM(d, result = launchScores<Elem, kHeadDim>(s, stream)); });
    if (result != cudaSuccess) return result;
    if (const cudaError_t allowed = allowSelectShared(); allowed != cudaSuccess) return allowed;
    selectKernel<<<unsigned(s.queries.blocks()), kSelectThreads, kSelectShared, stream>>>(s);
    return cudaGetLastError();
}

cudaError_t hipAdvanceStep(int32_t* step, cudaStream_t stream) {
    advanceStepKernel<<<1, 1, 0, stream>>>(step);
    return cudaGetLastError();
}

cudaError_t hipMaskPrepare(Half16 type, int32_t headDim) {
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(
        type, { HIP_DISPATCH_HEAD_DIM(headDim, result = allowScoreShared<Elem, kHeadDim>()); });
    return result != cudaSuccess ? result : allowSelectShared();
}

} // namespace hip::kernels
