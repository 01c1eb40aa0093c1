#pragma once
// A row rotated at a position, element by element: the decoded query (decode attention, attention
// mass) and keys that HiP moves from their stored position by some distance.

#include "kernels/device_common.cuh"

namespace hip::kernels {

// cos and sin of position * frequency(pair) for any position: a negative one turns backwards.
__device__ __forceinline__ float2 ropeCosSinSigned(const RopeTables& rope, int64_t position,
                                                   int pair) {
    const float2 cs = ropeCosSin(rope, position < 0 ? -position : position, pair);
    return position < 0 ? make_float2(cs.x, -cs.y) : cs;
}

// Value `dim` of a head (fp32 or 16-bit values) rotated by `position` (|position| below
// rope.maxPosition).
template <class T>
__device__ __forceinline__ float rotatedQueryValue(const T* head, int dim, int64_t position,
                                                   const RopeTables& rope) {
    if (dim >= rope.dims) return toFloat(head[dim]);
    const int halfDims = rope.dims / 2;
    const int pair = rope.neox ? dim % halfDims : dim / 2;
    const int first = rope.neox ? pair : 2 * pair;
    const int second = rope.neox ? pair + halfDims : 2 * pair + 1;
    const float2 r = rotatePair(toFloat(head[first]), toFloat(head[second]),
                                ropeCosSinSigned(rope, position, pair));
    return dim == first ? r.x : r.y;
}

} // namespace hip::kernels
