#include "kernels/attention_mass.h"

#include "kernels/kv_pages.cuh"
#include "kernels/rotated_query.cuh"

namespace hip::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxHeads = 64;

// The rotated query of every head sits in shared memory; a group of lanes (D/8 rounded up to a
// power of two, for the shuffle reduction) shares a key and walks its KV heads, so each key's
// mass is summed by one group and written once.
template <class T, int D> __global__ void __launch_bounds__(kThreads) massKernel(AttentionMass a) {
    constexpr int kLanesPerKey = D <= 32 ? 4 : (D <= 64 ? 8 : 16);
    static_assert(D <= 8 * 16);
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
    for (int64_t first = int64_t(blockIdx.x) * kKeysPerBlock; first < length; first += stride) {
        const int64_t key = first + int(threadIdx.x) / kLanesPerKey;
        const bool valid = key < length, chunkUsed = 8 * chunk < D;
        float total = 0.0f;
        for (int kvHead = 0; kvHead < a.kv.kvHeads; ++kvHead) {
            const T* row = keyRow<const T>(a.kv, kvHead, valid ? key : 0);
            float k[8];
            unpack8<T>(valid && chunkUsed ? *reinterpret_cast<const uint4*>(row + 8 * chunk)
                                          : make_uint4(0, 0, 0, 0),
                       k);
            for (int g = 0; g < group; ++g) {
                const int head = kvHead * group + g;
                const float* qh = query + head * D + 8 * (chunkUsed ? chunk : 0);
                float dot = 0.0f;
#pragma unroll
                for (int e = 0; e < 8; ++e)
                    dot = fmaf(qh[e], k[e], dot); // k is zero in unused lanes
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
    if (a.heads > kMaxHeads || a.heads % a.kv.kvHeads != 0) return cudaErrorInvalidValue;
    // Enough blocks for long contexts; short ones leave some idle.
    const unsigned blocks = 264;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        HIP_DISPATCH_HEAD_DIM(d, {
            massKernel<Elem, kHeadDim><<<blocks, kThreads, 0, stream>>>(a);
            result = cudaGetLastError();
        });
    });
    return result;
}

} // namespace hip::kernels
