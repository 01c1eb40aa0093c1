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

constexpr int kExactThreads = 256;

// The dot product of a key row (D 16-bit values) with the query whose value `dim` is
// queryValue(dim).
template <class T, int D, class QueryValue>
__device__ __forceinline__ float keyDot(const uint4* key, const QueryValue& queryValue) {
    float dot = 0.0f;
#pragma unroll 2
    for (int c = 0; c < D / 8; ++c) {
        float values[8];
        unpack8<T>(key[c], values);
#pragma unroll
        for (int e = 0; e < 8; ++e)
            dot = fmaf(queryValue(8 * c + e), values[e], dot);
    }
    return dot;
}

// One block per (query row, head) scores the row against every key it sees twice: first for the
// log-sum-exp (each thread a running maximum and sum over its keys, then the block's), then to
// add each key's probability. Blocks of other rows and heads add to the same keys, so the adds
// are atomic. Keys are read once per pass and head: the trace covers a question's few dozen rows.
// Keys sit rotated at their own positions, so a far key is scored at the far distance with the
// query rotated at the key's position plus that distance.
template <class T, int D>
__global__ void __launch_bounds__(kExactThreads) exactMassKernel(ExactAttentionMass a) {
    static_assert(D % 8 == 0);
    __shared__ float query[D], unrotated[D]; // scaled to log2 units
    const int row = int(blockIdx.x), head = int(blockIdx.y);
    const int64_t position = a.positions[row];
    const float* q = a.q + row * a.qStride + int64_t(head) * D;
    for (int i = int(threadIdx.x); i < D; i += kExactThreads) {
        query[i] = rotatedQueryValue(q, i, position, a.rope) * a.scale * kLog2e;
        unrotated[i] = q[i] * a.scale * kLog2e;
    }
    __syncthreads();
    const int kvHead = head / (a.heads / a.kv.kvHeads);
    const auto score = [&](int64_t key) { // in log2 units
        const uint4* k = reinterpret_cast<const uint4*>(keyRow<const T>(a.kv, kvHead, key));
        if (a.farDistance > 0 && position - key > a.farDistance)
            return keyDot<T, D>(k, [&](int dim) {
                return rotatedQueryValue(unrotated, dim, key + a.farDistance, a.rope);
            });
        return keyDot<T, D>(k, [&](int dim) { return query[dim]; });
    };

    float largest = -INFINITY, sum = 0.0f;
    for (int64_t key = threadIdx.x; key <= position; key += kExactThreads) {
        const float s = score(key);
        if (s > largest) {
            sum = sum * exp2f(largest - s) + 1.0f;
            largest = s;
        } else {
            sum += exp2f(s - largest);
        }
    }
    const float blockLargest = blockMax<kExactThreads>(largest);
    const float total = blockSum<kExactThreads>(sum * exp2f(largest - blockLargest));
    const float logSumExp = blockLargest + log2f(total);
    const float share = 1.0f / float(a.heads);
    for (int64_t key = threadIdx.x; key <= position; key += kExactThreads)
        atomicAdd(a.mass + key, exp2f(score(key) - logSumExp) * share);
}

} // namespace

cudaError_t addExactAttentionMass(const ExactAttentionMass& a, cudaStream_t stream) {
    if (a.rows <= 0 || a.heads <= 0 || a.heads % a.kv.kvHeads != 0 ||
        !attentionSupportsHeadDim(a.kv.headDim))
        return cudaErrorInvalidValue;
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_HALF16(a.kv.type, {
        HIP_DISPATCH_HEAD_DIM(a.kv.headDim, {
            exactMassKernel<Elem, kHeadDim>
                <<<dim3(unsigned(a.rows), unsigned(a.heads)), kExactThreads, 0, stream>>>(a);
            result = cudaGetLastError();
        });
    });
    return result;
}

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
