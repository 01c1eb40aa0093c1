#include "kernels/hip_chunk_scores.h"

#include "kernels/hip_mask_common.cuh"
#include "kernels/kv_pages.cuh"
#include "kernels/mma.cuh"
#include "kernels/rotated_query.cuh"

#include <algorithm>

// SelectRep: for every query head, descend into the half of a chunk whose centre key scores
// higher, keeping the best score seen; a key scores the maximum over the scoring query rows. A
// probed key must sit at its scoring position (0 or 1, or the chunk's index in the first layers)
// while the cache holds it rotated at its own position. Two kernels:
// - Rotating (decode): a block holds the scoring rows of some heads in shared memory (fp32); each
//   warp takes chunks, rotates each probed key from its stored position into a warp buffer, and
//   each lane takes query rows, so a score is a lane's own dot product and one warp maximum.
// - Tensor (prefill): the call's keys are first unrotated once (hipUnrotateKeys), so a probe needs
//   at most the rotation of its scoring position, one cos/sin row per chunk. A block takes one
//   query head and query block with the scoring rows in fp16; a warp descends four chunks at once:
//   their eight probes are gathered into shared memory, rotated there, and scored against every
//   row with m16n8k16 products (rows x 8 probes), the maximum over rows by shuffles.
// Scores of several blocks of a chunk (other heads) combine through atomicMax.

namespace hip::kernels {
namespace {

constexpr int kScoreWarps = 4;
constexpr int kChunksPerWarp = 4;
constexpr int kChunksPerBlock = kScoreWarps * kChunksPerWarp;
// Scoring queries a rotating block may hold in shared memory.
constexpr int kMaxQueryBytes = 96 * 1024;

constexpr int kTensorWarps = 8;
constexpr int kGroupChunks = 4;                // chunks a warp descends together
constexpr int kGroupProbes = 2 * kGroupChunks; // the n = 8 of the products
constexpr int kMaxTensorRowTiles = 8;          // scoring rows per block: at most 128
// Resident tensor blocks per multiprocessor the splits aim at.
constexpr int kTensorBlocksPerSm = 4;

struct ScoreLayout {
    int32_t headsPerBlock;
    int32_t rows; // scoring rows per head: blockRows / queryStride, rounded up
};

template <class T, int D>
__global__ void __launch_bounds__(kScoreWarps * 32)
    rotatingScoreKernel(HipPruningStage s, ScoreLayout layout, int32_t* scores) {
    if (!stageRuns(s.refresh)) return;
    constexpr int kStride = D + 1; // a lane per row: padded rows avoid bank conflicts
    extern __shared__ float shared[];
    float* queries = shared; // [head in block][row][kStride]
    float* keyBuffers = queries + layout.headsPerBlock * layout.rows * kStride;

    const int block = int(blockIdx.z);
    const int32_t count = s.input.counts[block];
    const int firstChunk = int(blockIdx.x) * kChunksPerBlock;
    if (firstChunk >= count || count <= s.keepChunks) return;
    const int firstHead = int(blockIdx.y) * layout.headsPerBlock;
    const int heads = min(layout.headsPerBlock, s.queries.heads - firstHead);
    const int group = s.queries.heads / s.kv.kvHeads;
    const int blockRows = blockRowCount(s.queries, block);
    const int rows = (blockRows + s.queryStride - 1) / s.queryStride;
    const int64_t queryRope = scoringQueryPosition(s, block, count);

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

// Over 48 KB of shared memory needs an opt-in, once per kernel, and outside a graph capture
// (hipMaskPrepare makes it before a decode step is captured).
template <class T, int D> cudaError_t allowRotatingShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(rotatingScoreKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             kMaxQueryBytes + kScoreWarps * D * int(sizeof(float)));
    return allowed;
}
template <class T, int D>
cudaError_t launchRotatingScores(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t rows = (s.queries.blockRows + s.queryStride - 1) / s.queryStride;
    const int rowBytes = rows * (D + 1) * int(sizeof(float));
    ScoreLayout layout;
    layout.rows = rows;
    layout.headsPerBlock = std::max(1, std::min(s.queries.heads, kMaxQueryBytes / rowBytes));
    const int sharedBytes = layout.headsPerBlock * rowBytes + kScoreWarps * D * int(sizeof(float));
    auto kernel = rotatingScoreKernel<T, D>;
    if (const cudaError_t allowed = allowRotatingShared<T, D>(); allowed != cudaSuccess)
        return allowed;
    const dim3 grid(unsigned((s.input.capacity + kChunksPerBlock - 1) / kChunksPerBlock),
                    unsigned((s.queries.heads + layout.headsPerBlock - 1) / layout.headsPerBlock),
                    unsigned(s.queries.blocks()));
    kernel<<<grid, kScoreWarps * 32, sharedBytes, stream>>>(s, layout,
                                                            reinterpret_cast<int32_t*>(s.scores));
    return cudaGetLastError();
}

// Halves between rows of a shared tile: 16-byte aligned rows whose ldmatrix reads of 8 rows fall
// in distinct banks.
template <int D> constexpr int kTileStride = D + 8;

template <int D> constexpr int tensorSharedBytes(int rowTiles) {
    return rowTiles * 16 * kTileStride<D> * 2 +
           kTensorWarps * (kGroupProbes * kTileStride<D> * 2 + kGroupChunks * (D / 2) * 8);
}

template <int D>
__global__ void __launch_bounds__(kTensorWarps * 32)
    tensorScoreKernel(HipPruningStage s, int32_t rowTiles, int32_t* scores) {
    if (!stageRuns(s.refresh)) return;
    constexpr int kStride = kTileStride<D>;
    constexpr int kPairs = D / 2;
    extern __shared__ float4 tensorShared[];                     // 16-byte aligned
    __half* queryTile = reinterpret_cast<__half*>(tensorShared); // [rowTiles * 16][kStride]
    __half* probeTiles = queryTile + rowTiles * 16 * kStride;    // per warp [kGroupProbes][kStride]
    float2* cosSinRows =                                         // per warp [kGroupChunks][kPairs]
        reinterpret_cast<float2*>(probeTiles + kTensorWarps * kGroupProbes * kStride);

    const int block = int(blockIdx.z), head = int(blockIdx.y);
    const int32_t count = s.input.counts[block];
    if (count <= s.keepChunks) return;
    const int kvHead = head / (s.queries.heads / s.kv.kvHeads);
    const int blockRows = blockRowCount(s.queries, block);
    const int rows = (blockRows + s.queryStride - 1) / s.queryStride;
    const int64_t queryRope = scoringQueryPosition(s, block, count);
    const int ropePairs = s.rope.dims / 2;

    // The scoring rows: the block's query rows of `head` averaged in groups of queryStride,
    // rotated at the scoring position, in fp16; zeros fill the last row tile.
    for (int i = int(threadIdx.x); i < rowTiles * 16 * kPairs; i += int(blockDim.x)) {
        const int r = i / kPairs, slot = i % kPairs;
        const int2 dims = pairDims(s.rope, D, slot);
        float2 pair = make_float2(0.0f, 0.0f);
        if (r < rows) {
            const int first = r * s.queryStride, n = min(s.queryStride, blockRows - first);
            const float* q = s.queries.q +
                             (int64_t(block) * s.queries.blockRows + first) * s.queries.stride +
                             int64_t(head) * D;
            for (int k = 0; k < n; ++k) {
                pair.x += q[int64_t(k) * s.queries.stride + dims.x];
                pair.y += q[int64_t(k) * s.queries.stride + dims.y];
            }
            pair = make_float2(pair.x / float(n), pair.y / float(n));
            if (slot < ropePairs)
                pair = rotatePair(pair.x, pair.y, ropeCosSin(s.rope, queryRope, slot));
        }
        queryTile[r * kStride + dims.x] = __float2half_rn(pair.x);
        queryTile[r * kStride + dims.y] = __float2half_rn(pair.y);
    }
    __syncthreads();

    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    __half* probes = probeTiles + warp * kGroupProbes * kStride;
    float2* cosSin = cosSinRows + warp * kGroupChunks * kPairs;
    const __half* keys =
        static_cast<const __half*>(s.unrotatedKeys) + int64_t(kvHead) * s.unrotatedRows * D;
    const int2* input = s.input.chunks + int64_t(block) * s.input.capacity;
    // Lanes with lane % 4 == i hold chunk i of the group: columns 2i (its left probe) and 2i + 1
    // (its right probe) of the product fragments.
    const int mine = lane % kGroupChunks;
    // Lane l gathers a quarter of probe l / 4: chunk l / 8, its left or right probe.
    const int probe = lane / 4, probeChunk = probe / 2, quarter = lane % 4;
    const bool rightProbe = probe % 2 != 0;

    if (!s.chunkIndexed) // every right probe moves to position 1; left probes stay at 0
        for (int p = lane; p < ropePairs; p += 32)
            cosSin[p] = ropeCosSin(s.rope, 1, p);
    const int groups = (count + kGroupChunks - 1) / kGroupChunks;
    for (int g = int(blockIdx.x) * kTensorWarps + warp; g < groups;
         g += int(gridDim.x) * kTensorWarps) {
        const int c = g * kGroupChunks + mine;
        const bool valid = c < count;
        const int2 range = valid ? input[c] : make_int2(0, 0);
        int left = range.x, right = range.y;
        const bool single = right - left == 1;
        float best = -INFINITY;
        __syncwarp();       // the previous group's rotations have read cosSin
        if (s.chunkIndexed) // both probes of chunk c move to position c
            for (int i = lane; i < kGroupChunks * ropePairs; i += 32) {
                const int chunk = i / ropePairs, p = i % ropePairs;
                if (g * kGroupChunks + chunk < count)
                    cosSin[chunk * kPairs + p] = ropeCosSin(s.rope, g * kGroupChunks + chunk, p);
            }
        for (bool first = true;; first = false) {
            const bool probing = valid && (right - left >= 2 || (first && single));
            if (!__any_sync(kFullMask, probing)) break;
            const int middle = (left + right) / 2;
            const int leftAt = single ? left : (left + middle) / 2;
            const int rightAt = (middle + right) / 2;

            // Gather this lane's quarter of its probe, 16 bytes at a time.
            const int probeLeftAt = __shfl_sync(kFullMask, leftAt, probeChunk);
            const int probeRightAt = __shfl_sync(kFullMask, rightAt, probeChunk);
            const bool chunkProbing = __shfl_sync(kFullMask, probing, probeChunk);
            const bool chunkSingle = __shfl_sync(kFullMask, single, probeChunk);
            __syncwarp(); // the previous products have read the probes
            if (chunkProbing && !(rightProbe && chunkSingle)) {
                constexpr int kPieces = D / 32;
                const uint4* from = reinterpret_cast<const uint4*>(
                    keys + int64_t(rightProbe ? probeRightAt : probeLeftAt) * D +
                    quarter * (D / 4));
                uint4* to = reinterpret_cast<uint4*>(probes + probe * kStride + quarter * (D / 4));
                uint4 piece[kPieces];
#pragma unroll
                for (int i = 0; i < kPieces; ++i)
                    piece[i] = from[i];
#pragma unroll
                for (int i = 0; i < kPieces; ++i)
                    to[i] = piece[i];
            }
            __syncwarp();
            // Move the probes to their scoring positions (left probes of relative scoring stay).
            for (int i = lane; i < kGroupProbes * ropePairs; i += 32) {
                const int n = i / ropePairs, p = i % ropePairs;
                if (!s.chunkIndexed && n % 2 == 0) continue;
                const int2 dims = pairDims(s.rope, D, p);
                __half* row = probes + n * kStride;
                const float2 r = rotatePair(__half2float(row[dims.x]), __half2float(row[dims.y]),
                                            cosSin[(s.chunkIndexed ? n / 2 : 0) * kPairs + p]);
                row[dims.x] = __float2half_rn(r.x);
                row[dims.y] = __float2half_rn(r.y);
            }
            __syncwarp();

            // Scores of the 8 probes against every scoring row; each lane keeps the maximum of
            // its two columns over its rows, then over the lanes of its column pair.
            float leftScore = -INFINITY, rightScore = -INFINITY;
            for (int t = 0; t < rowTiles; ++t) {
                float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
                for (int k = 0; k < D / 16; k += 2) {
                    uint32_t b[4], a[4];
                    loadMatrixX4(b, probes + (lane % 8) * kStride + k * 16 + (lane / 8) * 8);
                    const __half* rowsAt =
                        queryTile + (t * 16 + lane % 16) * kStride + (lane / 16) * 8;
                    loadMatrixX4(a, rowsAt + k * 16);
                    mma16816<__half>(acc, a, b[0], b[1]);
                    loadMatrixX4(a, rowsAt + (k + 1) * 16);
                    mma16816<__half>(acc, a, b[2], b[3]);
                }
                const int row = t * 16 + lane / 4;
                if (row < rows) {
                    leftScore = fmaxf(leftScore, acc[0]);
                    rightScore = fmaxf(rightScore, acc[1]);
                }
                if (row + 8 < rows) {
                    leftScore = fmaxf(leftScore, acc[2]);
                    rightScore = fmaxf(rightScore, acc[3]);
                }
            }
#pragma unroll
            for (int offset = 4; offset < 32; offset <<= 1) {
                leftScore = fmaxf(leftScore, __shfl_xor_sync(kFullMask, leftScore, offset));
                rightScore = fmaxf(rightScore, __shfl_xor_sync(kFullMask, rightScore, offset));
            }
            if (!probing) continue;
            if (single) {
                best = leftScore;
            } else if (leftScore >= rightScore) {
                right = middle;
                best = fmaxf(best, leftScore);
            } else {
                left = middle;
                best = fmaxf(best, rightScore);
            }
        }
        if (lane < kGroupChunks && valid)
            atomicMax(reinterpret_cast<unsigned*>(scores) + int64_t(block) * s.input.capacity + c,
                      orderedBits(best));
    }
}

template <int D> cudaError_t allowTensorShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(tensorScoreKernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             tensorSharedBytes<D>(kMaxTensorRowTiles));
    return allowed;
}

int multiprocessorCount() {
    static const int count = [] {
        int device = 0, value = 0;
        if (cudaGetDevice(&device) != cudaSuccess ||
            cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
            return 1;
        return value;
    }();
    return count;
}

template <int D> cudaError_t launchTensorScores(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t rowTiles = ((s.queries.blockRows + s.queryStride - 1) / s.queryStride + 15) / 16;
    if (const cudaError_t allowed = allowTensorShared<D>(); allowed != cudaSuccess) return allowed;
    // Split the chunks of a (head, query block) across blocks only when there are too few of
    // those for the multiprocessors (decode-sized calls).
    const int64_t pairs = int64_t(s.queries.heads) * s.queries.blocks();
    const int64_t wanted = int64_t(multiprocessorCount()) * kTensorBlocksPerSm;
    const int64_t groups = (s.input.capacity + kGroupChunks - 1) / kGroupChunks;
    const int64_t splits = std::clamp<int64_t>((wanted + pairs - 1) / pairs, 1,
                                               (groups + kTensorWarps - 1) / kTensorWarps);
    const dim3 grid(unsigned(splits), unsigned(s.queries.heads), unsigned(s.queries.blocks()));
    tensorScoreKernel<D><<<grid, kTensorWarps * 32, tensorSharedBytes<D>(rowTiles), stream>>>(
        s, rowTiles, reinterpret_cast<int32_t*>(s.scores));
    return cudaGetLastError();
}

// Unrotates key pair `slot` of every position: a thread per (position, pair).
template <class T, int D>
__global__ void unrotateKeysKernel(KvLayer kv, RopeTables rope, int64_t positions, __half* out,
                                   int64_t outRows) {
    constexpr int kPairs = D / 2;
    const int kvHead = int(blockIdx.y);
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= positions * kPairs) return;
    const int64_t position = i / kPairs;
    const int slot = int(i % kPairs);
    const int2 dims = pairDims(rope, D, slot);
    const T* key = keyRow<const T>(kv, kvHead, position);
    float2 pair = make_float2(toFloat(key[dims.x]), toFloat(key[dims.y]));
    if (slot < rope.dims / 2) {
        const float2 cs = ropeCosSin(rope, position, slot);
        pair = rotatePair(pair.x, pair.y, make_float2(cs.x, -cs.y));
    }
    __half* row = out + (int64_t(kvHead) * outRows + position) * D;
    row[dims.x] = __float2half_rn(pair.x);
    row[dims.y] = __float2half_rn(pair.y);
}

} // namespace

cudaError_t launchChunkScores(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t rows = (s.queries.blockRows + s.queryStride - 1) / s.queryStride;
    cudaError_t result = cudaErrorInvalidValue;
    if (s.unrotatedKeys && rows <= kMaxTensorRowTiles * 16) {
        HIP_DISPATCH_HEAD_DIM(s.kv.headDim, result = launchTensorScores<kHeadDim>(s, stream));
    } else {
        HIP_DISPATCH_HALF16(s.kv.type, {
            HIP_DISPATCH_HEAD_DIM(s.kv.headDim,
                                  result = launchRotatingScores<Elem, kHeadDim>(s, stream));
        });
    }
    return result;
}

cudaError_t prepareChunkScores(Half16 type, int32_t headDim) {
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(type, {
        HIP_DISPATCH_HEAD_DIM(headDim, {
            result = allowRotatingShared<Elem, kHeadDim>();
            if (result == cudaSuccess) result = allowTensorShared<kHeadDim>();
        });
    });
    return result;
}

cudaError_t hipUnrotateKeys(const KvLayer& kv, const RopeTables& rope, int64_t positions, void* out,
                            int64_t outRows, cudaStream_t stream) {
    if (positions < 1 || positions > outRows || positions > kv.capacity)
        return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(kv.type, {
        HIP_DISPATCH_HEAD_DIM(kv.headDim, {
            constexpr int kThreads = 256;
            const int64_t threads = positions * (kHeadDim / 2);
            const dim3 grid(unsigned((threads + kThreads - 1) / kThreads), unsigned(kv.kvHeads));
            unrotateKeysKernel<Elem, kHeadDim><<<grid, kThreads, 0, stream>>>(
                kv, rope, positions, static_cast<__half*>(out), outRows);
            result = cudaGetLastError();
        });
    });
    return result;
}

} // namespace hip::kernels
