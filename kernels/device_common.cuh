#pragma once
// Device helpers every kernel shares: warp reductions, fp16/bf16 conversions, rotary angles and
// the dispatch from the run-time storage type to the kernel templates.

#include "kernels/kernel_types.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace hip::kernels {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(kFullMask, v, offset);
    return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
    return v;
}

// Sum over a block of `threads` threads (a multiple of 32, at most 1024); every thread gets it.
template <int threads> __device__ __forceinline__ float blockSum(float v) {
    static_assert(threads % 32 == 0 && threads <= 1024);
    __shared__ float partial[threads / 32];
    v = warpSum(v);
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    float total = 0.0f;
#pragma unroll
    for (int w = 0; w < threads / 32; ++w)
        total += partial[w];
    __syncthreads(); // `partial` may be reused by the caller's next reduction
    return total;
}

// The largest value over a block of `threads` threads; every thread gets it.
template <int threads> __device__ __forceinline__ float blockMax(float v) {
    static_assert(threads % 32 == 0 && threads <= 1024);
    __shared__ float partial[threads / 32];
    v = warpMax(v);
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    float largest = partial[0];
#pragma unroll
    for (int w = 1; w < threads / 32; ++w)
        largest = fmaxf(largest, partial[w]);
    __syncthreads(); // `partial` may be reused by the caller's next reduction
    return largest;
}

// 2^x on the special function unit (relative error 2^-22; -inf gives 0).
__device__ __forceinline__ float exp2Approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ float toFloat(float v) {
    return v;
}
__device__ __forceinline__ float toFloat(__half h) {
    return __half2float(h);
}
__device__ __forceinline__ float toFloat(__nv_bfloat16 h) {
    return __bfloat162float(h);
}
__device__ __forceinline__ float2 toFloat2(__half2 h) {
    return __half22float2(h);
}
__device__ __forceinline__ float2 toFloat2(__nv_bfloat162 h) {
    return __bfloat1622float2(h);
}

template <class T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) {
    return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

// The packed pair type of a 16-bit element type.
template <class T> struct PairOf;
template <> struct PairOf<__half> { using type = __half2; };
template <> struct PairOf<__nv_bfloat16> { using type = __nv_bfloat162; };

template <class T> __device__ __forceinline__ typename PairOf<T>::type fromFloat2(float2 v);
template <> __device__ __forceinline__ __half2 fromFloat2<__half>(float2 v) {
    return __float22half2_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat162 fromFloat2<__nv_bfloat16>(float2 v) {
    return __float22bfloat162_rn(v);
}

// Eight 16-bit values (one 16-byte access) as floats.
template <class T> __device__ __forceinline__ void unpack8(const uint4& raw, float (&out)[8]) {
    using Pair = typename PairOf<T>::type;
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 f = toFloat2(*reinterpret_cast<const Pair*>(&words[i]));
        out[2 * i] = f.x;
        out[2 * i + 1] = f.y;
    }
}

template <class T> __device__ __forceinline__ uint4 pack8(const float (&in)[8]) {
    using Pair = typename PairOf<T>::type;
    uint32_t words[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const Pair p = fromFloat2<T>(make_float2(in[2 * i], in[2 * i + 1]));
        words[i] = *reinterpret_cast<const uint32_t*>(&p);
    }
    return make_uint4(words[0], words[1], words[2], words[3]);
}

// cos and sin of position * frequency(pair).
__device__ __forceinline__ float2 ropeCosSin(const RopeTables& rope, int64_t position, int pair) {
    return rope.cosSin[position * (rope.dims / 2) + pair];
}

// `count` consecutive rotary table entries (count even, the first at an even pair) in 16-byte
// loads.
template <int count>
__device__ __forceinline__ void loadCosSin(const float2* p, float2 (&cs)[count]) {
#pragma unroll
    for (int i = 0; i < count / 2; ++i) {
        const float4 v = reinterpret_cast<const float4*>(p)[i];
        cs[2 * i] = make_float2(v.x, v.y);
        cs[2 * i + 1] = make_float2(v.z, v.w);
    }
}

// (a, b) rotated by the angle whose cos and sin are `cs`.
__device__ __forceinline__ float2 rotatePair(float a, float b, float2 cs) {
    return make_float2(a * cs.x - b * cs.y, a * cs.y + b * cs.x);
}

} // namespace hip::kernels

// Runs the statements after `headDim` with `kHeadDim` bound to it as a constant, for every head
// dimension attentionSupportsHeadDim accepts; other values run nothing.
#define HIP_DISPATCH_HEAD_DIM(headDim, ...)                                                        \
    do {                                                                                           \
        switch (headDim) {                                                                         \
        case 32: {                                                                                 \
            constexpr int kHeadDim = 32;                                                           \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case 64: {                                                                                 \
            constexpr int kHeadDim = 64;                                                           \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case 96: {                                                                                 \
            constexpr int kHeadDim = 96;                                                           \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case 128: {                                                                                \
            constexpr int kHeadDim = 128;                                                          \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

// Runs the statements after `type` with `Elem` bound to the CUDA type of a Half16 value.
#define HIP_DISPATCH_HALF16(type, ...)                                                             \
    do {                                                                                           \
        if ((type) == ::hip::kernels::Half16::F16) {                                               \
            using Elem = __half;                                                                   \
            __VA_ARGS__;                                                                           \
        } else {                                                                                   \
            using Elem = __nv_bfloat16;                                                            \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
    } while (0)
