#include "kernels/argmax.h"

#include "kernels/device_common.cuh"

#include <cmath>

namespace hip::kernels {
namespace {

constexpr int kThreads = 1024;

struct Best {
    float value;
    int32_t index;
};

// Larger value wins; among equal values the smaller index, so the result does not depend on how
// the threads split the work.
__device__ __forceinline__ Best better(Best a, Best b) {
    if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
    return a;
}

__global__ void __launch_bounds__(kThreads)
    argmaxKernel(const float* values, int64_t count, int32_t* result) {
    Best best{-INFINITY, 0};
    bool found = false;
    for (int64_t i = threadIdx.x; i < count; i += kThreads) {
        const float v = values[i];
        if (v == v && (!found || v > best.value)) { // the first maximum of this thread's stride
            best = {v, int32_t(i)};
            found = true;
        }
    }
    if (!found) best = {-INFINITY, INT32_MAX};
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const Best other{__shfl_xor_sync(kFullMask, best.value, offset),
                         __shfl_xor_sync(kFullMask, best.index, offset)};
        best = better(best, other);
    }
    __shared__ Best warpBest[kThreads / 32];
    if (threadIdx.x % 32 == 0) warpBest[threadIdx.x / 32] = best;
    __syncthreads();
    if (threadIdx.x == 0) {
        Best total = warpBest[0];
        for (int w = 1; w < kThreads / 32; ++w)
            total = better(total, warpBest[w]);
        *result = total.index == INT32_MAX ? 0 : total.index;
    }
}

} // namespace

cudaError_t argmax(const float* values, int64_t count, int32_t* result, cudaStream_t stream) {
    argmaxKernel<<<1, kThreads, 0, stream>>>(values, count, result);
    return cudaGetLastError();
}

} // namespace hip::kernels
