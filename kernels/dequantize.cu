#include "kernels/dequantize.h"

#include "kernels/quant_blocks.cuh"

#include <algorithm>

namespace hip::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// A warp dequantizes 32 consecutive 32-element chunks, one per lane, into shared memory, then
// stores them with each store instruction covering 512 contiguous bytes: storing straight from
// the lanes would leave 64 bytes between neighbouring lanes' 16-byte stores, and the output is
// most of the traffic (fp16 is 3.6x the bytes of Q4_K). Chunk i of the weight lands at output
// element 32 i, because rows are contiguous in both.
template <class Fmt, class T>
__global__ void __launch_bounds__(kThreads)
    dequantizeKernel(const uint8_t* weight, int64_t rowBytes, int64_t rows, int64_t cols, T* out) {
    __shared__ uint4 staged[kWarps][32 * 4];
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    const int64_t chunksPerRow = cols / 32;
    const int64_t total = rows * chunksPerRow;
    uint4* dst = reinterpret_cast<uint4*>(out);
    for (int64_t first = (int64_t(blockIdx.x) * kWarps + warp) * 32; first < total;
         first += int64_t(gridDim.x) * kThreads) {
        const int64_t i = first + lane;
        if (i < total) {
            float y[32];
            dequantizeChunk<Fmt>(weight + (i / chunksPerRow) * rowBytes, i % chunksPerRow, y);
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                float part[8];
#pragma unroll
                for (int j = 0; j < 8; ++j)
                    part[j] = y[8 * k + j];
                staged[warp][4 * lane + k] = pack8<T>(part);
            }
        }
        __syncwarp();
        const int64_t pieces = min(int64_t(32), total - first) * 4;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int piece = lane + 32 * k;
            if (piece < pieces) dst[first * 4 + piece] = staged[warp][piece];
        }
        __syncwarp();
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
