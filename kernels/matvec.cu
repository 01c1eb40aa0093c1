#include "kernels/matvec.h"

#include "kernels/quant_blocks.cuh"

namespace hip::kernels {
namespace {

constexpr int kWarps = 4;
// Weight rows per warp: each 32-element slice of x is loaded once and used for all of them, and
// their loads are in flight together.
constexpr int kRowsPerWarp = 4;

// Lane l takes the 32-element chunks l, l + 32, ... of each of its warp's rows; the partial sums
// meet in a warp reduction. The loads of all rows of a step are issued before any of them is
// used (rows past the end read the last row again and are not stored), so a lane has several
// in flight.
template <class Fmt>
__global__ void __launch_bounds__(kWarps * 32)
    matvecKernel(const uint8_t* weight, int64_t rowBytes, int64_t rows, int64_t cols,
                 const float* x, const float* bias, float* y) {
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    const int64_t firstRow = (int64_t(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
    if (firstRow >= rows) return;
    const uint8_t* row[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
        row[r] = weight + min(firstRow + r, rows - 1) * rowBytes;
    float acc[kRowsPerWarp] = {};
    for (int64_t c = lane; c < cols / 32; c += 32) {
        typename Fmt::Raw raw[kRowsPerWarp];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
            Fmt::load(row[r], c, raw[r]);
        float xs[32];
        const float4* x4 = reinterpret_cast<const float4*>(x + 32 * c);
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const float4 v = x4[i];
            xs[4 * i] = v.x;
            xs[4 * i + 1] = v.y;
            xs[4 * i + 2] = v.z;
            xs[4 * i + 3] = v.w;
        }
        float halves[2] = {0.0f, 0.0f};
        if constexpr (!Fmt::kFloat)
#pragma unroll
            for (int j = 0; j < 32; ++j)
                halves[j / 16] += xs[j];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
            acc[r] += chunkDot<Fmt>(raw[r], xs, halves);
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
        const float total = warpSum(acc[r]);
        if (lane == 0 && firstRow + r < rows)
            y[firstRow + r] = total + (bias ? bias[firstRow + r] : 0.0f);
    }
}

} // namespace

cudaError_t matvec(const void* weight, quant::GgmlType type, int64_t rowBytes, int64_t rows,
                   int64_t cols, const float* x, const float* bias, float* y, cudaStream_t stream) {
    if (rows == 0) return cudaSuccess;
    if (cols % 32 != 0) return cudaErrorInvalidValue;
    const int64_t rowsPerBlock = kWarps * kRowsPerWarp;
    const unsigned blocks = unsigned((rows + rowsPerBlock - 1) / rowsPerBlock);
    HIP_DISPATCH_FORMAT(type, return cudaErrorInvalidValue,
                        matvecKernel<Fmt><<<blocks, kWarps * 32, 0, stream>>>(
                            static_cast<const uint8_t*>(weight), rowBytes, rows, cols, x, bias, y));
    return cudaGetLastError();
}

} // namespace hip::kernels
