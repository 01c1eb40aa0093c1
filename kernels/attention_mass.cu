#include "kernels/attention_mass.h"

#include "kernels/rotated_query.cuh"

namespace hip::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxHeads = 64;

// Values [8 * (lane % (D / 8)), + 8) of a key row, rotated for `position`: D/8 lanes hold a key.
// With NEOX pairs a lane trades its raw values with the lane holding the other halves of its
// pairs, so every lane of the warp must call this together. Invalid keys read nothing.
template <class T, int D>
__device__ __forceinline__ void loadRotatedKey(const T* row, int lane, int64_t position, bool valid,
                                               const RopeTables& rope, float (&k)[8]) {
    const int chunk = lane % (D / 8);
    const uint4 raw =
        valid ? *reinterpret_cast<const uint4*>(row + 8 * chunk) : make_uint4(0, 0, 0, 0);
    unpack8<T>(raw, k);
    const float2* table = rope.cosSin + position * (rope.dims / 2);
    if (!rope.neox) {
        if (8 * chunk < rope.dims) {
            float2 cs[4];
            loadCosSin<4>(table + 4 * chunk, cs);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const float2 r = rotatePair(k[2 * j], k[2 * j + 1], cs[j]);
                k[2 * j] = r.x;
                k[2 * j + 1] = r.y;
            }
        }
        return;
    }
    const int half = rope.dims / 16; // lanes holding the first halves of the rotated values
    const int partner = chunk < half ? lane + half : (chunk < 2 * half ? lane - half : lane);
    uint4 other;
    other.x = __shfl_sync(kFullMask, raw.x, partner);
    other.y = __shfl_sync(kFullMask, raw.y, partner);
    other.z = __shfl_sync(kFullMask, raw.z, partner);
    other.w = __shfl_sync(kFullMask, raw.w, partner);
    if (chunk >= 2 * half) return;
    float o[8];
    unpack8<T>(other, o);
    const bool first = chunk < half;
    float2 cs[8];
    loadCosSin<8>(table + 8 * (first ? chunk : chunk - half), cs);
#pragma unroll
    for (int e = 0; e < 8; ++e)
        k[e] = first ? rotatePair(k[e], o[e], cs[e]).x : rotatePair(o[e], k[e], cs[e]).y;
}

// The rotated query of every head sits in shared memory; D/8 lanes share a key and walk its KV
// heads, so each key's mass is summed by one group of lanes and written once.
template <class T, int D> __global__ void __launch_bounds__(kThreads) massKernel(AttentionMass a) {
    constexpr int kLanesPerKey = D / 8;
    constexpr int kKeysPerBlock = kThreads / kLanesPerKey;
    __shared__ float query[kMaxHeads * D];
    const int64_t length = *a.length;
    for (int i = int(threadIdx.x); i < a.heads * D; i += kThreads)
        query[i] =
            rotatedQueryValue(a.q + (i / D) * D, i % D, length - 1, a.rope) * a.scale * kLog2e;
    __syncthreads();

    const int lane = int(threadIdx.x) % 32, chunk = lane % kLanesPerKey;
    const int group = a.heads / a.kv.kvHeads;
    const int64_t stride = int64_t(gridDim.x) * kKeysPerBlock;
    // Every lane runs the same number of iterations (the key loads shuffle across lanes).
    for (int64_t first = int64_t(blockIdx.x) * kKeysPerBlock; first < length; first += stride) {
        const int64_t key = first + int(threadIdx.x) / kLanesPerKey;
        const bool valid = key < length;
        float total = 0.0f;
        for (int kvHead = 0; kvHead < a.kv.kvHeads; ++kvHead) {
            const T* row =
                static_cast<const T*>(a.kv.keys) + (kvHead * a.kv.capacity + (valid ? key : 0)) * D;
            float k[8];
            loadRotatedKey<T, D>(row, lane, valid ? key : 0, valid, a.rope, k);
            for (int g = 0; g < group; ++g) {
                const int head = kvHead * group + g;
                const float* qh = query + head * D + 8 * chunk;
                float dot = 0.0f;
#pragma unroll
                for (int e = 0; e < 8; ++e)
                    dot = fmaf(qh[e], k[e], dot);
#pragma unroll
                for (int offset = kLanesPerKey / 2; offset > 0; offset >>= 1)
                    dot += __shfl_xor_sync(kFullMask, dot, offset);
                total += exp2f(dot - a.logSumExp[head]);
            }
        }
        if (valid && chunk == 0) a.mass[key] += total / float(a.heads);
    }
}

} // namespace

cudaError_t addAttentionMass(const AttentionMass& a, cudaStream_t stream) {
    const int32_t d = a.kv.headDim;
    const bool ropeOk = a.rope.dims % (a.rope.neox ? 16 : 8) == 0;
    if (a.heads > kMaxHeads || a.heads % a.kv.kvHeads != 0 || !ropeOk) return cudaErrorInvalidValue;
    // Enough blocks for long contexts; short ones leave some idle.
    const unsigned blocks = 264;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        if (d == 32) massKernel<Elem, 32><<<blocks, kThreads, 0, stream>>>(a);
        if (d == 64) massKernel<Elem, 64><<<blocks, kThreads, 0, stream>>>(a);
        if (d == 128) massKernel<Elem, 128><<<blocks, kThreads, 0, stream>>>(a);
        if (d == 32 || d == 64 || d == 128) result = cudaGetLastError();
    });
    return result;
}

} // namespace hip::kernels
