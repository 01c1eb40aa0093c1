#include "kernels/swiglu.h"

#include "kernels/elementwise.cuh"

namespace hip::kernels {

cudaError_t swiglu(Rows gate, Rows up, Rows out, cudaStream_t stream) {
    // expf, not the fast intrinsic: the gate's exponent is compared with the CPU's std::exp.
    return forEachElement(out, stream, [=] __device__(int64_t r, int64_t c) {
        const float g = gate.data[r * gate.stride + c];
        out.data[r * out.stride + c] = g / (1.0f + expf(-g)) * up.data[r * up.stride + c];
    });
}

} // namespace hip::kernels
