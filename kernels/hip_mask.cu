#include "kernels/hip_mask.h"

#include "kernels/hip_chunk_scores.h"
#include "kernels/hip_mask_common.cuh"

// Selection: a block per query block sorts (score, index) pairs with a bitonic sort in shared
// memory, flags the best, and writes the kept chunks (cut for the next stage) in position order
// through a prefix sum of their piece counts. Scoring is hip_chunk_scores.cu's.

namespace hip::kernels {
namespace {

constexpr int kSelectThreads = 1024;

__device__ __forceinline__ int64_t candidateEnd(const HipQueries& q, const HipWindow& w,
                                                int block) {
    const int64_t last =
        firstPosition(q) + int64_t(block) * q.blockRows + blockRowCount(q, block) - 1;
    return max(int64_t(w.sinkTokens), last + 1 - w.windowTokens);
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

constexpr int kSelectShared = kHipMaxStageChunks * (8 + 1);
cudaError_t allowSelectShared() {
    static const cudaError_t allowed = cudaFuncSetAttribute(
        selectKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSelectShared);
    return allowed;
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
    if (s.input.capacity > kHipMaxStageChunks || s.keepChunks < 1 || s.queryStride < 1 ||
        s.queries.blocks() < 1 || s.queries.heads % s.kv.kvHeads != 0 ||
        s.refresh.count > HipRefresh::kMaxStages)
        return cudaErrorInvalidValue;
    // Unscored chunks stay at 0, below every score.
    const uint64_t scoreBytes = uint64_t(s.queries.blocks()) * uint64_t(s.input.capacity) * 4u;
    cudaError_t result = cudaMemsetAsync(s.scores, 0, scoreBytes, stream);
    if (result == cudaSuccess) result = launchChunkScores(s, stream);
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
    const cudaError_t result = prepareChunkScores(type, headDim);
    return result != cudaSuccess ? result : allowSelectShared();
}

} // namespace hip::kernels
