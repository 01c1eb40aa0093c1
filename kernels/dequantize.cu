#include "kernels/dequantize.h"

#include "kernels/quant_blocks.cuh"

#include <algorithm>

namespace hip::kernels {
namespace {

constexpr int kThreads = 256;

// One 32-element chunk per thread and step: a block-format read, four 16-byte stores.
template <class Fmt, class T>
__global__ void __launch_bounds__(kThreads)
    dequantizeKernel(const uint8_t* weight, int64_t rowBytes, int64_t rows, int64_t cols, T* out) {
    const int64_t chunksPerRow = cols / 32;
    const int64_t total = rows * chunksPerRow;
    for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * kThreads) {
        const int64_t r = i / chunksPerRow, c = i % chunksPerRow;
        float y[32];
        dequantizeChunk<Fmt>(weight + r * rowBytes, c, y);
        uint4* dst = reinterpret_cast<uint4*>(out + r * cols + 32 * c);
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            float part[8];
#pragma unroll
            for (int j = 0; j < 8; ++j)
                part[j] = y[8 * k + j];
            dst[k] = pack8<T>(part);
        }
    }
}

} // namespace

cudaError_t dequantizeRows(const void* weight, quant::GgmlType type, int64_t rowBytes,
                           int64_t firstRow, int64_t rows, int64_t cols, void* out, Half16 outType,
                           cudaStream_t stream) {
    if (rows == 0) return cudaSuccess;
    if (cols % 32 != 0) return cudaErrorInvalidValue;
    const auto* first = static_cast<const uint8_t*>(weight) + firstRow * rowBytes;
    const int64_t blocks = std::min<int64_t>((rows * (cols / 32) + kThreads - 1) / kThreads, 8192);
    HIP_DISPATCH_HALF16(
        outType,
        HIP_DISPATCH_FORMAT(type, return cudaErrorInvalidValue,
                            dequantizeKernel<Fmt, Elem><<<unsigned(blocks), kThreads, 0, stream>>>(
                                first, rowBytes, rows, cols, static_cast<Elem*>(out))));
    return cudaGetLastError();
}

} // namespace hip::kernels
