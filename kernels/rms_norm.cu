#include "kernels/rms_norm.h"

#include "kernels/device_common.cuh"

namespace hip::kernels {
namespace {

constexpr int kThreads = 256;

// One block per row. The second loop reads back what this same thread wrote, so the fused add
// needs no barrier.
template <bool addResidual>
__global__ void __launch_bounds__(kThreads)
    rmsNormKernel(Rows x, Rows residual, const float* gamma, float eps, Rows out) {
    float* in = x.data + blockIdx.x * x.stride;
    const float* add = addResidual ? residual.data + blockIdx.x * residual.stride : nullptr;
    float sumSquares = 0.0f;
    for (int64_t i = threadIdx.x; i < x.cols; i += kThreads) {
        float v = in[i];
        if constexpr (addResidual) {
            v += add[i];
            in[i] = v;
        }
        sumSquares += v * v;
    }
    const float total = blockSum<kThreads>(sumSquares);
    const float scale = 1.0f / sqrtf(total / float(x.cols) + eps);
    float* o = out.data + blockIdx.x * out.stride;
    for (int64_t i = threadIdx.x; i < x.cols; i += kThreads)
        o[i] = in[i] * scale * gamma[i];
}

} // namespace

cudaError_t rmsNorm(Rows x, const Rows* residual, const float* gamma, float eps, Rows out,
                    cudaStream_t stream) {
    if (x.rows == 0) return cudaSuccess;
    if (residual)
        rmsNormKernel<true>
            <<<unsigned(x.rows), kThreads, 0, stream>>>(x, *residual, gamma, eps, out);
    else
        rmsNormKernel<false><<<unsigned(x.rows), kThreads, 0, stream>>>(x, Rows{}, gamma, eps, out);
    return cudaGetLastError();
}

} // namespace hip::kernels
