#include "kernels/hip_chunk_scores.h"

#include "kernels/hip_mask_common.cuh"
#include "kernels/kv_pages.cuh"
#include "kernels/mma.cuh"
#include "kernels/rotated_query.cuh"

#include <algorithm>
#include <type_traits>

// SelectRep: for every query head, descend into the half of a chunk whose centre key scores
// higher, keeping the best score seen; a key scores the maximum over the scoring query rows. A
// probed key must sit at its scoring position (0 or 1, or the chunk's index in the first layers).
//
// A block takes one query head and query block, the scoring rows in shared memory in fp16. A warp
// descends eight chunks at once: at each level their sixteen probes are gathered into shared
// memory, rotated there to their scoring positions, and multiplied with every scoring row on
// tensor cores (m16n8k16, rows x 16 probes); the maximum over rows comes from shuffles. Keys come
// from one of two sources:
// - prefill: the call's keys unrotated once by hipUnrotateKeys (fp16, flat), so a probe turns by
//   its scoring position only: nothing for left probes, one hot table row for right probes;
// - decode: the paged cache, keys rotated at their own positions, turned by the difference.
// Blocks of other heads add to a chunk's score through atomicMax.

namespace hip::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kGroupChunks = 8;                // chunks a warp descends together
constexpr int kGroupProbes = 2 * kGroupChunks; // two n = 8 tiles of the products
constexpr int kMaxRowTiles = kHipMaxScoringRows / 16;
// The turn of a probe slot left empty at this level (its chunk is done).
constexpr int32_t kNotGathered = INT32_MIN;
// Resident blocks per multiprocessor the chunk splits aim at.
constexpr int kBlocksPerSm = 4;

// Halves between rows of a shared tile: 16-byte aligned rows whose ldmatrix reads of 8 rows fall
// in distinct banks.
template <int D> constexpr int kTileStride = D + 8;

template <int D> constexpr int sharedBytes(int rowTiles) {
    return rowTiles * 16 * kTileStride<D> * 2 +
           kWarps * kGroupProbes * (kTileStride<D> * 2 + int(sizeof(int32_t)));
}

// S: the source's element type (fp16 unrotated keys, or the cache's type).
template <class S, int D, bool kPaged>
__global__ void __launch_bounds__(kWarps * 32)
    scoreKernel(HipPruningStage s, int32_t rowTiles, int32_t* scores) {
    if (!stageRuns(s.refresh)) return;
    constexpr int kStride = kTileStride<D>;
    constexpr int kPairs = D / 2;
    extern __shared__ float4 shared[];                        // 16-byte aligned
    __half* queryTile = reinterpret_cast<__half*>(shared);    // [rowTiles * 16][kStride]
    __half* probeTiles = queryTile + rowTiles * 16 * kStride; // per warp [kGroupProbes][kStride]
    int32_t* turns = // per warp and probe: the rotation it needs
        reinterpret_cast<int32_t*>(probeTiles + kWarps * kGroupProbes * kStride);

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
    int32_t* turn = turns + warp * kGroupProbes;
    const int2* input = s.input.chunks + int64_t(block) * s.input.capacity;
    const S* unrotated =
        static_cast<const S*>(s.unrotatedKeys) + int64_t(kvHead) * s.unrotatedRows * D;
    // Chunk k of a group lives in lane k % 4 (and every lane congruent to it mod 4), slot k / 4:
    // the columns 2(k % 4) and 2(k % 4) + 1 of product tile k / 4 are its left and right probes.
    // Lane l gathers quarter l % 4 of probes l / 4 and 8 + l / 4 (chunks l / 8 and 4 + l / 8).
    const int quarter = lane % 4, owner = lane / 8;
    const bool rightProbe = (lane / 4) % 2 != 0;
    // Rotating a tile in place also turns a cached bf16 key into fp16.
    const int turnedPairs = kPaged && !std::is_same_v<S, __half> ? kPairs : ropePairs;
    constexpr int kLanePairs = (kPairs + 31) / 32;
    int2 laneDims[kLanePairs];
#pragma unroll
    for (int j = 0; j < kLanePairs; ++j)
        laneDims[j] = pairDims(s.rope, D, min(lane + 32 * j, kPairs - 1));
    float2 cosSin[kLanePairs]; // of cosSinDistance, for the lane's pairs
    int cosSinDistance = kNotGathered;

    const int groups = (count + kGroupChunks - 1) / kGroupChunks;
    for (int g = int(blockIdx.x) * kWarps + warp; g < groups; g += int(gridDim.x) * kWarps) {
        int left[2], right[2], middle[2];
        bool valid[2], single[2];
        float best[2] = {-INFINITY, -INFINITY};
        for (int k = 0; k < 2; ++k) {
            const int c = g * kGroupChunks + 4 * k + quarter;
            valid[k] = c < count;
            const int2 range = valid[k] ? input[c] : make_int2(0, 0);
            left[k] = range.x;
            right[k] = range.y;
            single[k] = right[k] - left[k] == 1;
        }
        for (bool first = true;; first = false) {
            bool probing[2];
            int leftAt[2], rightAt[2];
            for (int k = 0; k < 2; ++k) {
                probing[k] = valid[k] && (right[k] - left[k] >= 2 || (first && single[k]));
                middle[k] = (left[k] + right[k]) / 2;
                leftAt[k] = single[k] ? left[k] : (left[k] + middle[k]) / 2;
                rightAt[k] = (middle[k] + right[k]) / 2;
            }
            if (!__any_sync(kFullMask, probing[0] || probing[1])) break;

            __syncwarp(); // the previous level's products have read the probes
            for (int k = 0; k < 2; ++k) {
                const int probe = 8 * k + lane / 4, chunk = g * kGroupChunks + 4 * k + owner;
                // Every lane joins every shuffle (none inside a condition).
                const int ownerLeftAt = __shfl_sync(kFullMask, leftAt[k], owner);
                const int ownerRightAt = __shfl_sync(kFullMask, rightAt[k], owner);
                const bool ownerProbing = __shfl_sync(kFullMask, probing[k], owner);
                const bool ownerSingle = __shfl_sync(kFullMask, single[k], owner);
                const bool gather = ownerProbing && !(rightProbe && ownerSingle);
                const int at = rightProbe ? ownerRightAt : ownerLeftAt;
                // Its scoring position, and the distance it turns from where it is stored.
                const int target = s.chunkIndexed ? chunk : int(rightProbe);
                if (quarter == 0)
                    turn[probe] = !gather ? kNotGathered : kPaged ? target - at : target;
                if (!gather) continue;
                const S* row =
                    kPaged ? keyRow<const S>(s.kv, kvHead, at) : unrotated + int64_t(at) * D;
                constexpr int kPieces = D / 32; // 16-byte pieces of a quarter row
                const uint4* from = reinterpret_cast<const uint4*>(row + quarter * (D / 4));
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
            // Lane l turns value pairs l, l + 32, ... of each gathered probe. Probes that share a
            // distance (all right probes of relative scoring, both probes of a chunk in the
            // first layers) reuse the lane's cos and sin.
            for (int n = 0; n < kGroupProbes; ++n) {
                const int distance = turn[n];
                if (distance == kNotGathered || (!kPaged && distance == 0)) continue;
                S* from = reinterpret_cast<S*>(probes + n * kStride);
                __half* to = probes + n * kStride;
#pragma unroll
                for (int j = 0; j < kLanePairs; ++j) {
                    if (lane + 32 * j >= turnedPairs) break;
                    float2 pair =
                        make_float2(toFloat(from[laneDims[j].x]), toFloat(from[laneDims[j].y]));
                    if (lane + 32 * j < ropePairs) {
                        if (distance != cosSinDistance) {
#pragma unroll
                            for (int i = 0; i < kLanePairs; ++i)
                                if (lane + 32 * i < ropePairs)
                                    cosSin[i] = ropeCosSinSigned(s.rope, distance, lane + 32 * i);
                            cosSinDistance = distance;
                        }
                        pair = rotatePair(pair.x, pair.y, cosSin[j]);
                    }
                    to[laneDims[j].x] = __float2half_rn(pair.x);
                    to[laneDims[j].y] = __float2half_rn(pair.y);
                }
            }
            __syncwarp();

            // Every scoring row against the 16 probes; each lane keeps the maximum of its
            // columns over its rows, then over the lanes of its column pair.
            float leftScore[2] = {-INFINITY, -INFINITY}, rightScore[2] = {-INFINITY, -INFINITY};
            for (int t = 0; t < rowTiles; ++t) {
                float acc[2][4] = {};
                const __half* rowsAt = queryTile + (t * 16 + lane % 16) * kStride + (lane / 16) * 8;
#pragma unroll
                for (int kk = 0; kk < D / 16; kk += 2) {
                    uint32_t a0[4], a1[4];
                    loadMatrixX4(a0, rowsAt + kk * 16);
                    loadMatrixX4(a1, rowsAt + (kk + 1) * 16);
#pragma unroll
                    for (int k = 0; k < 2; ++k) {
                        uint32_t b[4];
                        loadMatrixX4(b, probes + (8 * k + lane % 8) * kStride + kk * 16 +
                                            (lane / 8) * 8);
                        mma16816<__half>(acc[k], a0, b[0], b[1]);
                        mma16816<__half>(acc[k], a1, b[2], b[3]);
                    }
                }
                const int row = t * 16 + lane / 4;
                for (int k = 0; k < 2; ++k) {
                    if (row < rows) {
                        leftScore[k] = fmaxf(leftScore[k], acc[k][0]);
                        rightScore[k] = fmaxf(rightScore[k], acc[k][1]);
                    }
                    if (row + 8 < rows) {
                        leftScore[k] = fmaxf(leftScore[k], acc[k][2]);
                        rightScore[k] = fmaxf(rightScore[k], acc[k][3]);
                    }
                }
            }
            for (int k = 0; k < 2; ++k) {
#pragma unroll
                for (int offset = 4; offset < 32; offset <<= 1) {
                    leftScore[k] =
                        fmaxf(leftScore[k], __shfl_xor_sync(kFullMask, leftScore[k], offset));
                    rightScore[k] =
                        fmaxf(rightScore[k], __shfl_xor_sync(kFullMask, rightScore[k], offset));
                }
                if (!probing[k]) continue;
                if (single[k]) {
                    best[k] = leftScore[k];
                } else if (leftScore[k] >= rightScore[k]) {
                    right[k] = middle[k];
                    best[k] = fmaxf(best[k], leftScore[k]);
                } else {
                    left[k] = middle[k];
                    best[k] = fmaxf(best[k], rightScore[k]);
                }
            }
        }
        if (lane < 4)
            for (int k = 0; k < 2; ++k)
                if (valid[k])
                    atomicMax(reinterpret_cast<unsigned*>(scores) +
                                  int64_t(block) * s.input.capacity + g * kGroupChunks + 4 * k +
                                  lane,
                              orderedBits(best[k]));
    }
}

template <class S, int D, bool kPaged> cudaError_t allowShared() {
    static const cudaError_t allowed =
        cudaFuncSetAttribute(scoreKernel<S, D, kPaged>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             sharedBytes<D>(kMaxRowTiles));
    return allowed;
}

template <class S, int D, bool kPaged>
cudaError_t launchScores(const HipPruningStage& s, cudaStream_t stream) {
    const int32_t blockRows = std::min(s.queries.blockRows, s.queries.rows);
    const int32_t rowTiles = ((blockRows + s.queryStride - 1) / s.queryStride + 15) / 16;
    if (rowTiles > kMaxRowTiles || s.multiprocessors < 1) return cudaErrorInvalidValue;
    if (const cudaError_t allowed = allowShared<S, D, kPaged>(); allowed != cudaSuccess)
        return allowed;
    // Chunks of a (head, query block) are split across blocks only when there are too few of
    // those to fill the multiprocessors (decode).
    const int64_t pairs = int64_t(s.queries.heads) * s.queries.blocks();
    const int64_t wanted = int64_t(s.multiprocessors) * kBlocksPerSm;
    const int64_t groups = (s.input.capacity + kGroupChunks - 1) / kGroupChunks;
    const int64_t splits =
        std::clamp<int64_t>((wanted + pairs - 1) / pairs, 1, (groups + kWarps - 1) / kWarps);
    const dim3 grid(unsigned(splits), unsigned(s.queries.heads), unsigned(s.queries.blocks()));
    scoreKernel<S, D, kPaged><<<grid, kWarps * 32, sharedBytes<D>(rowTiles), stream>>>(
        s, rowTiles, reinterpret_cast<int32_t*>(s.scores));
    return cudaGetLastError();
}

// hipUnrotateKeys: a thread per (position, value pair).
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
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HEAD_DIM(s.kv.headDim, {
        if (s.unrotatedKeys) {
            result = launchScores<__half, kHeadDim, false>(s, stream);
        } else {
            HIP_DISPATCH_HALF16(s.kv.type,
                                { result = launchScores<Elem, kHeadDim, true>(s, stream); });
        }
    });
    return result;
}

cudaError_t prepareChunkScores(Half16 type, int32_t headDim) {
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HEAD_DIM(headDim, {
        result = allowShared<__half, kHeadDim, false>();
        if (result == cudaSuccess)
            HIP_DISPATCH_HALF16(type, { result = allowShared<Elem, kHeadDim, true>(); });
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
