#pragma once
// What the single-query kernels (decode attention, attention mass) share: the query rotated at
// its position, and key rows read by groups of lanes and rotated on the fly.

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

// N consecutive 16-bit values (N = 4, 8 or 16) as 32-bit words, in 8- or 16-byte loads.
template <int N> __device__ __forceinline__ void loadWords(const void* p, uint32_t (&w)[N / 2]) {
    if constexpr (N == 4) {
        const uint2 v = *static_cast<const uint2*>(p);
        w[0] = v.x;
        w[1] = v.y;
    } else {
#pragma unroll
        for (int i = 0; i < N / 8; ++i) {
            const uint4 v = static_cast<const uint4*>(p)[i];
            w[4 * i] = v.x;
            w[4 * i + 1] = v.y;
            w[4 * i + 2] = v.z;
            w[4 * i + 3] = v.w;
        }
    }
}

template <class T, int N>
__device__ __forceinline__ void wordsToFloats(const uint32_t (&w)[N / 2], float (&v)[N]) {
    using Pair = typename PairOf<T>::type;
#pragma unroll
    for (int i = 0; i < N / 2; ++i) {
        const float2 f = toFloat2(*reinterpret_cast<const Pair*>(&w[i]));
        v[2 * i] = f.x;
        v[2 * i + 1] = f.y;
    }
}

// A key row read by D/N lanes, N values each: lane `lane` holds values
// [N * (lane % (D/N)), ... + N). Loads them and rotates them for `position`. With NEOX pairs a lane
// trades its raw values with the lane holding the other halves of its pairs, so every lane of
// the warp must call this together. Invalid keys read nothing and give zeros.
template <class T, int D, int N>
__device__ __forceinline__ void loadRotatedKey(const T* row, int lane, int64_t position, bool valid,
                                               const RopeTables& rope, float (&k)[N]) {
    constexpr int kLanesPerKey = D / N;
    const int chunk = lane % kLanesPerKey;
    uint32_t raw[N / 2];
    if (valid)
        loadWords<N>(row + N * chunk, raw);
    else
#pragma unroll
        for (int i = 0; i < N / 2; ++i)
            raw[i] = 0;
    wordsToFloats<T, N>(raw, k);
    const float2* table = rope.cosSin + position * (rope.dims / 2);
    if (!rope.neox) {
        if (N * chunk < rope.dims) {
            float2 cs[N / 2];
            loadCosSin<N / 2>(table + N * chunk / 2, cs);
#pragma unroll
            for (int j = 0; j < N / 2; ++j) {
                const float2 r = rotatePair(k[2 * j], k[2 * j + 1], cs[j]);
                k[2 * j] = r.x;
                k[2 * j + 1] = r.y;
            }
        }
        return;
    }
    const int half = rope.dims / 2 / N; // lanes holding the first half of the rotated values
    const int partner = chunk < half ? lane + half : (chunk < 2 * half ? lane - half : lane);
    uint32_t other[N / 2];
#pragma unroll
    for (int i = 0; i < N / 2; ++i)
        other[i] = __shfl_sync(kFullMask, raw[i], partner);
    if (chunk >= 2 * half) return;
    float o[N];
    wordsToFloats<T, N>(other, o);
    const bool first = chunk < half;
    float2 cs[N];
    loadCosSin<N>(table + N * (first ? chunk : chunk - half), cs);
#pragma unroll
    for (int e = 0; e < N; ++e)
        k[e] = first ? rotatePair(k[e], o[e], cs[e]).x : rotatePair(o[e], k[e], cs[e]).y;
}

// Whether a rope layout suits loadRotatedKey with N values per lane.
__host__ __device__ inline bool ropeFitsLanes(const RopeTables& rope, int n) {
    return rope.neox ? rope.dims % (2 * n) == 0 : rope.dims % n == 0;
}

} // namespace hip::kernels
