#include "kernels/convert.h"

#include "kernels/device_common.cuh"
#include "kernels/elementwise.cuh"

namespace hip::kernels {

cudaError_t convertRows(Rows x, void* out, Half16 outType, cudaStream_t stream) {
    cudaError_t result = cudaSuccess;
    HIP_DISPATCH_HALF16(outType, {
        Elem* dst = static_cast<Elem*>(out);
        result = forEachElement(x, stream, [=] __device__(int64_t r, int64_t c) {
            dst[r * x.cols + c] = fromFloat<Elem>(x.data[r * x.stride + c]);
        });
    });
    return result;
}

} // namespace hip::kernels
