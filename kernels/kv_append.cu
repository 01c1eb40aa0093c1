#include "kernels/kv_append.h"

#include "kernels/device_common.cuh"
#include "kernels/elementwise.cuh"

namespace hip::kernels {

cudaError_t appendKv(Rows k, Rows v, const int32_t* positions, const KvLayer& layer,
                     cudaStream_t stream) {
    cudaError_t result = cudaSuccess;
    const int64_t headDim = layer.headDim, capacity = layer.capacity;
    HIP_DISPATCH_HALF16(layer.type, {
        Elem* keys = static_cast<Elem*>(layer.keys);
        Elem* values = static_cast<Elem*>(layer.values);
        result = forEachElement(k, stream, [=] __device__(int64_t r, int64_t c) {
            const int64_t slot = ((c / headDim) * capacity + positions[r]) * headDim + c % headDim;
            keys[slot] = fromFloat<Elem>(k.data[r * k.stride + c]);
            values[slot] = fromFloat<Elem>(v.data[r * v.stride + c]);
        });
    });
    return result;
}

} // namespace hip::kernels
