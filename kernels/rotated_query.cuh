#pragma once
// The decoded query rotated at its position, element by element, for the single-query kernels
// (decode attention, attention mass).

#include "kernels/device_common.cuh"

namespace hip::kernels {

// Value `dim` of a query head (fp32, unrotated) rotated as if it sat at `position`.
__device__ __forceinline__ float rotatedQueryValue(const float* head, int dim, int64_t position,
                                                   const RopeTables& rope) {
    if (dim >= rope.dims) return head[dim];
    const int halfDims = rope.dims / 2;
    const int pair = rope.neox ? dim % halfDims : dim / 2;
    const int first = rope.neox ? pair : 2 * pair;
    const int second = rope.neox ? pair + halfDims : 2 * pair + 1;
    const float2 r = rotatePair(head[first], head[second], ropeCosSin(rope, position, pair));
    return dim == first ? r.x : r.y;
}

} // namespace hip::kernels
