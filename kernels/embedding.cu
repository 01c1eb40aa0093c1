#include "kernels/embedding.h"

#include "kernels/quant_blocks.cuh"

namespace hip::kernels {
namespace {

constexpr int kThreads = 128;

// One block per token; each thread dequantizes 32-element chunks of the row.
template <class Fmt>
__global__ void __launch_bounds__(kThreads)
    embedKernel(const uint8_t* table, int64_t rowBytes, const int32_t* tokens, Rows out) {
    const int64_t t = blockIdx.x;
    const uint8_t* row = table + int64_t(tokens[t]) * rowBytes;
    float* dst = out.data + t * out.stride;
    for (int64_t c = threadIdx.x; c < out.cols / 32; c += kThreads) {
        float y[32];
        dequantizeChunk<Fmt>(row, c, y);
        float4* d4 = reinterpret_cast<float4*>(dst + 32 * c);
#pragma unroll
        for (int i = 0; i < 8; ++i)
            d4[i] = make_float4(y[4 * i], y[4 * i + 1], y[4 * i + 2], y[4 * i + 3]);
    }
}

} // namespace

cudaError_t embed(const void* table, quant::GgmlType type, int64_t rowBytes, const int32_t* tokens,
                  Rows out, cudaStream_t stream) {
    if (out.rows == 0) return cudaSuccess;
    if (out.cols % 32 != 0 || out.stride % 4 != 0) return cudaErrorInvalidValue;
    HIP_DISPATCH_FORMAT(type, return cudaErrorInvalidValue,
                        embedKernel<Fmt><<<unsigned(out.rows), kThreads, 0, stream>>>(
                            static_cast<const uint8_t*>(table), rowBytes, tokens, out));
    return cudaGetLastError();
}

} // namespace hip::kernels
