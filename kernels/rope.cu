#include "kernels/rope.h"

#include "kernels/device_common.cuh"

namespace hip::kernels {
namespace {

// One block per (row, head), one thread per pair of values. Pairs past rope.dims (partial
// rotary) are copied unrotated.
template <class T>
__global__ void ropeKernel(Rows x, int32_t headDim, const int32_t* positions, RopeTables rope,
                           float scale, T* out, int64_t outHeadStride) {
    const int64_t r = blockIdx.x;
    const int h = int(blockIdx.y), i = int(threadIdx.x);
    const float* in = x.data + r * x.stride + int64_t(h) * headDim;
    T* o = out + h * outHeadStride + r * headDim;
    const int rotatedPairs = rope.dims / 2;
    int first, second;
    float2 result;
    if (i < rotatedPairs) {
        first = rope.neox ? i : 2 * i;
        second = rope.neox ? i + rotatedPairs : 2 * i + 1;
        result = rotatePair(in[first], in[second], ropeCosSin(rope, positions[r], i));
    } else {
        first = rope.dims + 2 * (i - rotatedPairs);
        second = first + 1;
        result = make_float2(in[first], in[second]);
    }
    o[first] = fromFloat<T>(result.x * scale);
    o[second] = fromFloat<T>(result.y * scale);
}

} // namespace

cudaError_t ropeRows(Rows x, int32_t heads, int32_t headDim, const int32_t* positions,
                     const RopeTables& rope, float scale, void* out, int64_t outHeadStride,
                     Half16 outType, cudaStream_t stream) {
    if (x.rows == 0) return cudaSuccess;
    if (headDim % 2 != 0 || rope.dims > headDim) return cudaErrorInvalidValue;
    const dim3 grid(unsigned(x.rows), unsigned(heads));
    HIP_DISPATCH_HALF16(
        outType, ropeKernel<Elem><<<grid, unsigned(headDim / 2), 0, stream>>>(
                     x, headDim, positions, rope, scale, static_cast<Elem*>(out), outHeadStride));
    return cudaGetLastError();
}

} // namespace hip::kernels
