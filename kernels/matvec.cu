#include "kernels/matvec.h"

#include "kernels/quant_blocks.cuh"

#include <algorithm>
#include <atomic>

// Decoding reads every weight once per token, so this kernel must stream the weights at memory
// speed with few instructions per weight. Block formats keep their quants as unsigned bytes, four
// to a register; x is quantized once per block to int16 per 32-element chunk (relative error
// below 2e-5 of the chunk's largest value) in shared memory, and each group of four quants meets
// its four x values in two dp2a instructions (exact integer products and sums). The chunk's
// scales and offsets then apply once per 32 elements. Float weights multiply x in fp32.
//
// Blocks stay resident and loop over groups of rows, so x is quantized once per block, not once
// per row group. A warp takes 4 rows at a time; lane l takes chunks l, l + 32, ... of each, with
// the loads of all 4 rows in flight before any is used.

namespace hip::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kRowsPerWarp = 4;

// sum over the two 16-bit values of `x` times two unsigned bytes of `q` (the low or high pair),
// plus c.
__device__ __forceinline__ int dotLow(uint32_t x, uint32_t q, int c) {
    int d;
    asm("dp2a.lo.s32.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(x), "r"(q), "r"(c));
    return d;
}
__device__ __forceinline__ int dotHigh(uint32_t x, uint32_t q, int c) {
    int d;
    asm("dp2a.hi.s32.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(x), "r"(q), "r"(c));
    return d;
}

// x in shared memory, chunk c: 32 int16 values (16 words), their scale, and the sums of the
// quantized x over elements 0..15 and 16..31 (for the formats' offsets).
struct QuantizedX {
    uint32_t* words;
    float* scale;
    float2* halves;
};

__device__ __forceinline__ QuantizedX quantizedX(unsigned char* shared, int64_t chunks) {
    QuantizedX q;
    q.words = reinterpret_cast<uint32_t*>(shared);
    q.scale = reinterpret_cast<float*>(q.words + chunks * 16);
    q.halves = reinterpret_cast<float2*>(q.scale + ((chunks + 1) & ~int64_t(1)));
    return q;
}

__host__ __device__ constexpr int64_t quantizedXBytes(int64_t chunks) {
    return chunks * 64 + ((chunks + 1) & ~int64_t(1)) * 4 + chunks * 8;
}

// The 32 activations of chunk c, with four 16-byte loads.
__device__ __forceinline__ void loadChunk(const float* x, int64_t c, float (&v)[32]) {
    const float4* x4 = reinterpret_cast<const float4*>(x + 32 * c);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const float4 f = x4[i];
        v[4 * i] = f.x;
        v[4 * i + 1] = f.y;
        v[4 * i + 2] = f.z;
        v[4 * i + 3] = f.w;
    }
}

template <class Fmt>
__global__ void __launch_bounds__(kThreads)
    matvecKernel(const uint8_t* weight, int64_t rowBytes, int64_t rows, int64_t cols,
                 const float* x, const float* bias, float* y) {
    extern __shared__ __align__(16) unsigned char shared[];
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    const int64_t chunks = cols / 32;
    const QuantizedX xq = quantizedX(shared, chunks);
    if constexpr (!Fmt::kFloat) {
        for (int64_t c = threadIdx.x; c < chunks; c += kThreads) {
            float v[32];
            loadChunk(x, c, v);
            float largest = 0.0f;
#pragma unroll
            for (int j = 0; j < 32; ++j)
                largest = fmaxf(largest, fabsf(v[j]));
            const float inverse = largest > 0.0f ? 32767.0f / largest : 0.0f;
            int sums[2] = {0, 0};
#pragma unroll
            for (int i = 0; i < 16; ++i) {
                const int a = __float2int_rn(v[2 * i] * inverse);
                const int b = __float2int_rn(v[2 * i + 1] * inverse);
                sums[i / 8] += a + b;
                xq.words[c * 16 + i] = (uint32_t(a) & 0xFFFFu) | (uint32_t(b) << 16);
            }
            // The offsets multiply the sums of the quantized x, so that a format's bias (Q8_0's
            // +128, Q4_0's +8, ...) cancels exactly against its share of the integer sums.
            const float scale = largest / 32767.0f;
            xq.scale[c] = scale;
            xq.halves[c] = make_float2(scale * float(sums[0]), scale * float(sums[1]));
        }
        __syncthreads();
    }

    const int64_t groups = (rows + kRowsPerWarp - 1) / kRowsPerWarp;
    for (int64_t group = int64_t(blockIdx.x) * kWarps + warp; group < groups;
         group += int64_t(gridDim.x) * kWarps) {
        const int64_t firstRow = group * kRowsPerWarp;
        const uint8_t* row[kRowsPerWarp];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
            row[r] = weight + min(firstRow + r, rows - 1) * rowBytes;
        float acc[kRowsPerWarp] = {};
        for (int64_t c = lane; c < chunks; c += 32) {
            typename Fmt::Raw raw[kRowsPerWarp];
#pragma unroll
            for (int r = 0; r < kRowsPerWarp; ++r)
                Fmt::load(row[r], c, raw[r]);
            if constexpr (Fmt::kFloat) {
                float xs[32];
                loadChunk(x, c, xs);
                const float unused[2] = {0.0f, 0.0f};
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                    acc[r] += chunkDot<Fmt>(raw[r], xs, unused);
            } else {
                uint32_t xw[16];
                const uint4* words = reinterpret_cast<const uint4*>(xq.words + c * 16);
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    const uint4 w = words[i];
                    xw[4 * i] = w.x;
                    xw[4 * i + 1] = w.y;
                    xw[4 * i + 2] = w.z;
                    xw[4 * i + 3] = w.w;
                }
                const float scale = xq.scale[c];
                const float2 halves = xq.halves[c];
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r) {
                    int sum[2] = {0, 0};
#pragma unroll
                    for (int i = 0; i < 8; ++i)
                        sum[i / 4] = dotHigh(xw[2 * i + 1], raw[r].q[i],
                                             dotLow(xw[2 * i], raw[r].q[i], sum[i / 4]));
                    acc[r] += scale * (raw[r].scale[0] * float(sum[0]) +
                                       raw[r].scale[1] * float(sum[1])) +
                              raw[r].offset[0] * halves.x + raw[r].offset[1] * halves.y;
                }
            }
        }
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
            const float total = warpSum(acc[r]);
            if (lane == 0 && firstRow + r < rows)
                y[firstRow + r] = total + (bias ? bias[firstRow + r] : 0.0f);
        }
    }
}

template <class Fmt>
cudaError_t launch(const uint8_t* weight, int64_t rowBytes, int64_t rows, int64_t cols,
                   const float* x, const float* bias, float* y, cudaStream_t stream) {
    const int sharedBytes = Fmt::kFloat ? 0 : int(quantizedXBytes(cols / 32));
    auto kernel = matvecKernel<Fmt>;
    // Over 48 KB of shared memory needs an opt-in, raised only when a wider x needs more (the
    // call costs host time).
    static std::atomic<int> allowedBytes{48 * 1024};
    if (sharedBytes > allowedBytes.load()) {
        const cudaError_t status =
            cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sharedBytes);
        if (status != cudaSuccess) return status;
        allowedBytes = sharedBytes;
    }
    // At most one wave of resident blocks (they loop over the rows).
    static const int multiprocessors = [] {
        int device = 0, count = 0;
        cudaGetDevice(&device);
        cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
        return std::max(count, 1);
    }();
    int resident = 1;
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, kThreads, sharedBytes);
    // Every block loops the same number of times: a last, partial round would idle most warps.
    const int64_t needed = (rows + kWarps * kRowsPerWarp - 1) / (kWarps * kRowsPerWarp);
    const int64_t most = int64_t(std::max(resident, 1)) * multiprocessors;
    const int64_t rounds = (needed + most - 1) / most;
    const int64_t blocks = (needed + rounds - 1) / rounds;
    kernel<<<unsigned(blocks), kThreads, sharedBytes, stream>>>(weight, rowBytes, rows, cols, x,
                                                                bias, y);
    return cudaGetLastError();
}

} // namespace

cudaError_t matvec(const void* weight, quant::GgmlType type, int64_t rowBytes, int64_t rows,
                   int64_t cols, const float* x, const float* bias, float* y, cudaStream_t stream) {
    if (rows == 0) return cudaSuccess;
    if (cols % 32 != 0) return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_FORMAT(type, return cudaErrorInvalidValue,
                        result = launch<Fmt>(static_cast<const uint8_t*>(weight), rowBytes, rows,
                                             cols, x, bias, y, stream));
    return result;
}

} // namespace hip::kernels
