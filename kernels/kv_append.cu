#include "kernels/kv_append.h"

#include "kernels/device_common.cuh"
#include "kernels/kv_pages.cuh"

namespace hip::kernels {
namespace {

// One block per (row, KV head), one thread per pair of values: the key pair is rotated (pairs
// past rope.dims, partial rotary, are stored as they are), the value pair copied.
template <class T>
__global__ void appendKernel(Rows k, Rows v, const int32_t* positions, RopeTables rope,
                             KvLayer layer) {
    const int64_t r = blockIdx.x;
    const int head = int(blockIdx.y), i = int(threadIdx.x), d = layer.headDim;
    const int position = positions[r];
    const int rotatedPairs = rope.dims / 2;
    int first, second;
    if (i < rotatedPairs) {
        first = rope.neox ? i : 2 * i;
        second = rope.neox ? i + rotatedPairs : 2 * i + 1;
    } else {
        first = rope.dims + 2 * (i - rotatedPairs);
        second = first + 1;
    }
    const float* key = k.data + r * k.stride + int64_t(head) * d;
    const float* value = v.data + r * v.stride + int64_t(head) * d;
    const float2 rotated = i < rotatedPairs
                               ? rotatePair(key[first], key[second], ropeCosSin(rope, position, i))
                               : make_float2(key[first], key[second]);
    const int64_t slot = kvRowOffset(layer, head, position);
    T* keys = static_cast<T*>(layer.keys) + slot;
    T* values = static_cast<T*>(layer.values) + slot;
    keys[first] = fromFloat<T>(rotated.x);
    keys[second] = fromFloat<T>(rotated.y);
    values[first] = fromFloat<T>(value[first]);
    values[second] = fromFloat<T>(value[second]);
}

} // namespace

cudaError_t appendKv(Rows k, Rows v, const int32_t* positions, const RopeTables& rope,
                     const KvLayer& layer, cudaStream_t stream) {
    if (k.rows == 0) return cudaSuccess;
    if (layer.headDim % 2 != 0 || rope.dims > layer.headDim || rope.dims % 2 != 0)
        return cudaErrorInvalidValue;
    const dim3 grid(unsigned(k.rows), unsigned(layer.kvHeads));
    HIP_DISPATCH_HALF16(
        layer.type, appendKernel<Elem>
        <<<grid, unsigned(layer.headDim / 2), 0, stream>>>(k, v, positions, rope, layer));
    return cudaGetLastError();
}

} // namespace hip::kernels
