#include "kernels/quantize_activations.h"

#include "kernels/device_common.cuh"

namespace hip::kernels {
namespace {

constexpr int kThreads = 256;
// Eight threads per 32-value chunk, four values each: one 16-byte load and one 4-byte store per
// thread, and three shuffle steps for the chunk's largest value and sums.
constexpr int kThreadsPerChunk = 8;
constexpr int kChunksPerBlock = kThreads / kThreadsPerChunk;

__device__ __forceinline__ uint32_t packBytes(int a, int b, int c, int d) {
    return (uint32_t(a) & 0xFFu) | ((uint32_t(b) & 0xFFu) << 8) | ((uint32_t(c) & 0xFFu) << 16) |
           (uint32_t(d) << 24);
}

// Block (i, r): chunks 32i.. of row r.
__global__ void __launch_bounds__(kThreads)
    quantizeKernel(Rows x, uint8_t* out, int64_t outStride) {
    const int64_t chunks = x.cols / 32;
    const int64_t chunk = int64_t(blockIdx.x) * kChunksPerBlock + threadIdx.x / kThreadsPerChunk;
    const int part = int(threadIdx.x) % kThreadsPerChunk;
    // Threads past the last chunk compute on its values (the shuffles need the whole warp) and
    // store nothing.
    const bool active = chunk < chunks;
    const int64_t c = active ? chunk : chunks - 1;
    const int64_t row = blockIdx.y;
    const float4 v = *reinterpret_cast<const float4*>(x.data + row * x.stride + 32 * c + 4 * part);

    float largest = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
#pragma unroll
    for (int offset = kThreadsPerChunk / 2; offset > 0; offset >>= 1)
        largest = fmaxf(largest, __shfl_xor_sync(kFullMask, largest, offset));
    const float inverse = largest > 0.0f ? 127.0f / largest : 0.0f;
    const int q0 = __float2int_rn(v.x * inverse), q1 = __float2int_rn(v.y * inverse);
    const int q2 = __float2int_rn(v.z * inverse), q3 = __float2int_rn(v.w * inverse);
    // Threads 0-3 of the chunk end with the sum over values 0..15, threads 4-7 over 16..31.
    int half = q0 + q1 + q2 + q3;
    half += __shfl_xor_sync(kFullMask, half, 1);
    half += __shfl_xor_sync(kFullMask, half, 2);
    const int otherHalf = __shfl_xor_sync(kFullMask, half, 4);
    if (!active) return;

    uint8_t* base = out + row * outStride;
    reinterpret_cast<uint32_t*>(base)[8 * c + part] = packBytes(q0, q1, q2, q3);
    if (part == 0) {
        const float d = largest / 127.0f;
        reinterpret_cast<float4*>(base + x.cols)[c] =
            make_float4(d, d * float(half), d * float(otherHalf), d * float(half + otherHalf));
    }
}

} // namespace

cudaError_t quantizeActivations(Rows x, void* out, cudaStream_t stream) {
    if (x.rows == 0) return cudaSuccess;
    if (x.cols % 32 != 0 || x.stride % 4 != 0) return cudaErrorInvalidValue;
    const dim3 grid(unsigned((x.cols / 32 + kChunksPerBlock - 1) / kChunksPerBlock),
                    unsigned(x.rows));
    quantizeKernel<<<grid, kThreads, 0, stream>>>(x, static_cast<uint8_t*>(out),
                                                  quantizedRowBytes(x.cols));
    return cudaGetLastError();
}

} // namespace hip::kernels
