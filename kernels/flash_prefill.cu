#include "kernels/flash_prefill.h"

#include "kernels/device_common.cuh"
#include "kernels/kv_pages.cuh"
#include "kernels/mma.cuh"

// The FlashAttention-2 scheme with mma.sync: a block owns a tile of query rows of one head and
// walks the key tiles up to the causal limit. Each warp owns 16 or 32 query rows; S = Q K^T and
// O += P V run on the tensor cores with fp32 accumulators, the probabilities P go from the S
// accumulators straight into the A operand of the second product (no shared-memory round trip).
// Key and value tiles are double-buffered with cp.async; the cache holds rotated keys, so tiles
// are used as they land.

namespace hip::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// A shared-memory tile of rows of D 16-bit values. Rows are padded by 16 bytes so that the 8
// rows an ldmatrix reads at the same column fall into different banks; unlike an XOR swizzle,
// padding keeps every fragment address a per-thread base plus a constant, which saves the
// registers that hold precomputed addresses.
template <int D> struct TileLayout {
    static constexpr int kStride = D + 8; // elements between rows
    __device__ __forceinline__ static int offset(int row, int chunk) {
        return row * kStride + chunk * 8;
    }
};

template <class T, int D, int kTilesM, int kKeyTile>
__global__ void __launch_bounds__(kThreads, 2) prefillKernel(PrefillAttention a) {
    using Layout = TileLayout<D>;
    constexpr int kRows = kWarps * 16 * kTilesM;
    constexpr int kChunks = D / 8;
    extern __shared__ __align__(16) unsigned char shared[];
    T* sQ = reinterpret_cast<T*>(shared);
    constexpr int kTile = kKeyTile * Layout::kStride; // elements of one key or value tile
    T* sK = sQ + kRows * Layout::kStride;             // two buffers
    T* sV = sK + 2 * kTile;                           // two buffers

    const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;
    // The last query tiles see the most keys: start them first, for every head (x varies
    // fastest, and neighbouring heads share their keys and values in L2).
    // Positions fit 32 bits (the engine's positions are int32); 64-bit arithmetic would cost
    // registers this kernel does not have.
    const int tile = int(gridDim.y) - 1 - int(blockIdx.y);
    const int head = int(blockIdx.x);
    const int kvHead = head / (a.heads / a.kv.kvHeads);
    const int firstRow = tile * kRows;
    const int validRows = min(kRows, int(a.rows) - firstRow);
    const int keyEnd = int(a.start) + firstRow + validRows; // keys [0, keyEnd) are visible
    const int tiles = (keyEnd + kKeyTile - 1) / kKeyTile;

    const T* q = static_cast<const T*>(a.q) + head * a.qHeadStride + int64_t(firstRow) * D;

    for (int i = tid; i < kRows * kChunks; i += kThreads) {
        const int row = i / kChunks, chunk = i % kChunks;
        const bool valid = row < validRows;
        copyAsync16(sQ + Layout::offset(row, chunk), q + (valid ? row * D + chunk * 8 : 0), valid);
    }
    // Rows past keyEnd are zero-filled: a zero probability times garbage could still be NaN.
    const T* keyPool = static_cast<const T*>(a.kv.keys);
    const T* valuePool = static_cast<const T*>(a.kv.values);
    const int32_t* pages = headPages(a.kv, kvHead);
    auto loadKeyTile = [&](int t, int buffer) {
        const int firstKey = t * kKeyTile;
        T* dk = sK + buffer * kTile;
        T* dv = sV + buffer * kTile;
        for (int i = tid; i < kKeyTile * kChunks; i += kThreads) {
            const int row = i / kChunks, chunk = i % kChunks;
            const int key = firstKey + row;
            const bool valid = key < keyEnd;
            // Tiles may cross pages (48 keys): each row finds its own.
            const int64_t src = valid ? pagedRowOffset(pages, key, D) + chunk * 8 : 0;
            copyAsync16(dk + Layout::offset(row, chunk), keyPool + src, valid);
            copyAsync16(dv + Layout::offset(row, chunk), valuePool + src, valid);
        }
        commitAsyncCopies();
    };
    loadKeyTile(0, 0); // the query copies join this first group

    const int warpRow = warp * 16 * kTilesM;
    const int warpFirstPosition = int(a.start) + firstRow + warpRow;
    float o[kTilesM][D / 8][4] = {};
    float rowMax[kTilesM][2], rowSum[kTilesM][2];
#pragma unroll
    for (int mt = 0; mt < kTilesM; ++mt)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            rowMax[mt][h] = -INFINITY;
            rowSum[mt][h] = 0.0f;
        }

    for (int t = 0; t < tiles; ++t) {
        const T* tk = sK + (t & 1) * kTile;
        const T* tv = sV + (t & 1) * kTile;
        waitAsyncCopies<0>();
        __syncthreads(); // tile t landed; every warp is done with tile t - 1's buffers
        if (t + 1 < tiles) loadKeyTile(t + 1, (t + 1) & 1);

        // S = Q K^T, in log2 units (q carries the scale and log2(e)).
        float s[kTilesM][kKeyTile / 8][4] = {};
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            uint32_t qa[kTilesM][4];
#pragma unroll
            for (int mt = 0; mt < kTilesM; ++mt)
                loadMatrixX4(
                    qa[mt], sQ + Layout::offset(warpRow + mt * 16 + lane % 16, 2 * kk + lane / 16));
#pragma unroll
            for (int np = 0; np < kKeyTile / 16; ++np) {
                uint32_t kb[4];
                loadMatrixX4(kb, tk + Layout::offset(np * 16 + (lane / 16) * 8 + lane % 8,
                                                     2 * kk + (lane / 8) % 2));
#pragma unroll
                for (int mt = 0; mt < kTilesM; ++mt) {
                    mma16816<T>(s[mt][2 * np], qa[mt], kb[0], kb[1]);
                    mma16816<T>(s[mt][2 * np + 1], qa[mt], kb[2], kb[3]);
                }
            }
        }

        const int firstKey = t * kKeyTile;
        if (firstKey + kKeyTile - 1 > warpFirstPosition) { // the tile crosses this warp's diagonal
#pragma unroll
            for (int mt = 0; mt < kTilesM; ++mt)
#pragma unroll
                for (int nt = 0; nt < kKeyTile / 8; ++nt)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int position =
                            warpFirstPosition + mt * 16 + lane / 4 + (e >= 2 ? 8 : 0);
                        const int key = firstKey + nt * 8 + 2 * (lane % 4) + (e & 1);
                        if (key > position) s[mt][nt][e] = -INFINITY;
                    }
        }

        // Online softmax. Each row's values are spread over the 4 lanes of a quad; the running
        // sum stays per lane and is reduced once at the end.
#pragma unroll
        for (int mt = 0; mt < kTilesM; ++mt)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float m = rowMax[mt][h];
#pragma unroll
                for (int nt = 0; nt < kKeyTile / 8; ++nt)
                    m = fmaxf(m, fmaxf(s[mt][nt][2 * h], s[mt][nt][2 * h + 1]));
                m = fmaxf(m, __shfl_xor_sync(kFullMask, m, 1));
                m = fmaxf(m, __shfl_xor_sync(kFullMask, m, 2));
                const float base = m == -INFINITY ? 0.0f : m;
                const float correction = exp2Approx(rowMax[mt][h] - base);
                rowMax[mt][h] = m;
                float sum = 0.0f;
#pragma unroll
                for (int nt = 0; nt < kKeyTile / 8; ++nt)
#pragma unroll
                    for (int e = 2 * h; e < 2 * h + 2; ++e) {
                        s[mt][nt][e] = exp2Approx(s[mt][nt][e] - base);
                        sum += s[mt][nt][e];
                    }
                rowSum[mt][h] = rowSum[mt][h] * correction + sum;
#pragma unroll
                for (int dt = 0; dt < D / 8; ++dt) {
                    o[mt][dt][2 * h] *= correction;
                    o[mt][dt][2 * h + 1] *= correction;
                }
            }

            // O += P V: two neighbouring 8-key accumulator tiles of S form one 16-key A fragment.
#pragma unroll
        for (int kv = 0; kv < kKeyTile / 16; ++kv) {
            uint32_t pa[kTilesM][4];
#pragma unroll
            for (int mt = 0; mt < kTilesM; ++mt) {
                pa[mt][0] = packPair<T>(s[mt][2 * kv][0], s[mt][2 * kv][1]);
                pa[mt][1] = packPair<T>(s[mt][2 * kv][2], s[mt][2 * kv][3]);
                pa[mt][2] = packPair<T>(s[mt][2 * kv + 1][0], s[mt][2 * kv + 1][1]);
                pa[mt][3] = packPair<T>(s[mt][2 * kv + 1][2], s[mt][2 * kv + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < D / 16; ++dp) {
                uint32_t vb[4];
                loadMatrixX4Transposed(
                    vb, tv + Layout::offset(kv * 16 + lane % 8 + ((lane / 8) % 2) * 8,
                                            2 * dp + lane / 16));
#pragma unroll
                for (int mt = 0; mt < kTilesM; ++mt) {
                    mma16816<T>(o[mt][2 * dp], pa[mt], vb[0], vb[1]);
                    mma16816<T>(o[mt][2 * dp + 1], pa[mt], vb[2], vb[3]);
                }
            }
        }
    }

#pragma unroll
    for (int mt = 0; mt < kTilesM; ++mt)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float sum = rowSum[mt][h];
            sum += __shfl_xor_sync(kFullMask, sum, 1);
            sum += __shfl_xor_sync(kFullMask, sum, 2);
            const float inverse = 1.0f / sum;
            const int row = warpRow + mt * 16 + lane / 4 + 8 * h;
            if (row >= validRows) continue;
            float* dst =
                a.out.data + int64_t(firstRow + row) * a.out.stride + head * D + 2 * (lane % 4);
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt)
                *reinterpret_cast<float2*>(dst + dt * 8) =
                    make_float2(o[mt][dt][2 * h] * inverse, o[mt][dt][2 * h + 1] * inverse);
        }
}

template <class T, int D, int kTilesM, int kKeyTile>
cudaError_t launch(const PrefillAttention& a, cudaStream_t stream) {
    constexpr int kRows = kWarps * 16 * kTilesM;
    constexpr int kSharedBytes = (kRows + 4 * kKeyTile) * TileLayout<D>::kStride * 2;
    auto kernel = prefillKernel<T, D, kTilesM, kKeyTile>;
    // Over 48 KB of shared memory needs an opt-in; once per kernel (it costs host time).
    static const cudaError_t allowed =
        kSharedBytes > 48 * 1024
            ? cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   kSharedBytes)
            : cudaSuccess;
    if (allowed != cudaSuccess) return allowed;
    const dim3 grid(unsigned(a.heads), unsigned((a.rows + kRows - 1) / kRows));
    kernel<<<grid, kThreads, kSharedBytes, stream>>>(a);
    return cudaGetLastError();
}

// Keys per tile for 32 rows per warp: with head dim 128, 64 keys need more than 255 registers
// (the S accumulators grow with the tile) and spill; 48 fit. (H200, T = 32K: 48 keys 25.4 ms,
// 64 keys 26.6 ms, 32 keys 27.4 ms: smaller tiles pay more barriers and rescales per key.)
template <int D> constexpr int kKeysWith32Rows = D == 128 ? 48 : 64;

template <class T, int D>
cudaError_t launchTile(const PrefillAttention& a, PrefillTile tile, cudaStream_t stream) {
    // 32 rows per warp with head dim 128 takes 85 KB of shared memory; where a block gets less
    // (sm_86 and sm_89 allow 99 KB, older cards less), the 16-row tile is used.
    static const int sharedLimit = [] {
        int device = 0, bytes = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
        return bytes;
    }();
    constexpr int keys = kKeysWith32Rows<D>;
    const bool fits = (kWarps * 16 * 2 + 4 * keys) * TileLayout<D>::kStride * 2 <= sharedLimit;
    return tile == PrefillTile::WarpRows32 && fits ? launch<T, D, 2, keys>(a, stream)
                                                   : launch<T, D, 1, 64>(a, stream);
}

} // namespace

cudaError_t flashPrefill(const PrefillAttention& a, cudaStream_t stream, PrefillTile tile) {
    if (a.rows == 0) return cudaSuccess;
    const int32_t d = a.kv.headDim;
    if (a.heads % a.kv.kvHeads != 0 || a.out.stride % 2 != 0) return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        HIP_DISPATCH_HEAD_DIM(d, result = launchTile<Elem, kHeadDim>(a, tile, stream));
    });
    return result;
}

} // namespace hip::kernels
