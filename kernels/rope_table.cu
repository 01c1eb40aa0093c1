#include "kernels/rope_table.h"

#include <algorithm>

namespace hip::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void fillKernel(const double* frequencies, int32_t pairs, int64_t positions,
                           float2* cosSin) {
    const int64_t total = positions * pairs;
    for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * kThreads) {
        double s, c;
        sincos(double(i / pairs) * frequencies[i % pairs], &s, &c);
        cosSin[i] = make_float2(float(c), float(s));
    }
}

} // namespace

cudaError_t fillRopeTable(const double* frequencies, int32_t pairs, int64_t positions,
                          float2* cosSin, cudaStream_t stream) {
    const int64_t total = positions * pairs;
    if (total == 0) return cudaSuccess;
    const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, 65536);
    fillKernel<<<unsigned(blocks), kThreads, 0, stream>>>(frequencies, pairs, positions, cosSin);
    return cudaGetLastError();
}

} // namespace hip::kernels
