#pragma once
// Dequantization of the ggml block formats on the device, 32 consecutive elements at a time (every
// format's block is 32 or 256 elements, so a row is a whole number of 32-element chunks). The
// arithmetic mirrors engine/quant/dequantize.cpp operation by operation, so the values are the
// same as the CPU reference's. Layouts: the project's reference notes, models-and-formats.md §2.
//
// Rows of a weight lie back to back from a 256-byte-aligned allocation, so a block starts at a
// multiple of its size: 16-byte loads are used where the block size allows them (Q4_K, Q5_K,
// F16, BF16, F32), 4-byte loads for Q4_1 and Q5_1, 2-byte loads for the others. Quants stay
// packed four to a word; they become floats one byte permute and one subtraction each.

#include "kernels/device_common.cuh"
#include "quant/ggml_type.h"

#include <cstdint>

namespace hip::kernels {

using quant::GgmlType;

__device__ __forceinline__ uint32_t load16(const uint8_t* p) {
    return *reinterpret_cast<const uint16_t*>(p);
}
__device__ __forceinline__ uint32_t load32(const uint8_t* p) {
    return *reinterpret_cast<const uint32_t*>(p);
}
__device__ __forceinline__ float halfAt(const uint8_t* p) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(load16(p))));
}
__device__ __forceinline__ float lowHalf(uint32_t word) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(word & 0xFFFFu)));
}
__device__ __forceinline__ float highHalf(uint32_t word) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(word >> 16)));
}

// Four bytes at a 2-byte-aligned address.
__device__ __forceinline__ uint32_t load32From16(const uint8_t* p) {
    return load16(p) | (load16(p + 2) << 16);
}

// Bit i of a 4-bit value moved to bit 4 of byte i (the fifth bit of four 5-bit quants): the
// multiplier's four terms place the value's bits 7 apart, so no partial products overlap.
__device__ __forceinline__ uint32_t spreadBits(uint32_t nibble) {
    return (nibble * 0x02040810u) & 0x10101010u;
}

// Byte b of w as a float, exactly: 0x4B000000 | byte is the float 2^23 + byte, so one byte
// permute and one subtraction replace an integer-to-float conversion (a quarter-rate
// instruction).
__device__ __forceinline__ float byteAsFloat(uint32_t w, int b) {
    return __int_as_float(int(__byte_perm(w, 0x4B000000u, 0x7540u | unsigned(b)))) - 8388608.0f;
}

// The block formats describe a 32-element chunk as unsigned byte quants: element j = 4i + b is
// scale[j / 16] * (byte b of q[i]) + offset[j / 16]. Every product is exact in fp32 (scales have
// at most 19 significant bits, quants at most 8), so the values equal the CPU reference's.
struct Quants {
    uint32_t q[8];
    float scale[2];
    float offset[2];
};

template <GgmlType F> struct Format;

// Float formats load their chunk as raw registers (Raw) and turn them into values when used.
template <> struct Format<GgmlType::F32> {
    static constexpr bool kFloat = true;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = 128;
    struct Raw {
        float4 v[8];
    };
    __device__ static void load(const uint8_t* row, int64_t c, Raw& raw) {
        const float4* p = reinterpret_cast<const float4*>(row + c * kBlockBytes);
#pragma unroll
        for (int i = 0; i < 8; ++i)
            raw.v[i] = p[i];
    }
    __device__ static void values(const Raw& raw, float (&y)[32]) {
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            y[4 * i] = raw.v[i].x;
            y[4 * i + 1] = raw.v[i].y;
            y[4 * i + 2] = raw.v[i].z;
            y[4 * i + 3] = raw.v[i].w;
        }
    }
};

template <class T> struct Format16 {
    static constexpr bool kFloat = true;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = 64;
    struct Raw {
        uint4 v[4];
    };
    __device__ static void load(const uint8_t* row, int64_t c, Raw& raw) {
        const uint4* p = reinterpret_cast<const uint4*>(row + c * kBlockBytes);
#pragma unroll
        for (int i = 0; i < 4; ++i)
            raw.v[i] = p[i];
    }
    __device__ static void values(const Raw& raw, float (&y)[32]) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            float v[8];
            unpack8<T>(raw.v[i], v);
#pragma unroll
            for (int j = 0; j < 8; ++j)
                y[8 * i + j] = v[j];
        }
    }
};
template <> struct Format<GgmlType::F16> : Format16<__half> {};
template <> struct Format<GgmlType::BF16> : Format16<__nv_bfloat16> {};

__device__ __forceinline__ void uniform(Quants& out, float scale, float offset) {
    out.scale[0] = out.scale[1] = scale;
    out.offset[0] = out.offset[1] = offset;
}

// d, qs[32] (int8): flipping the sign bits gives the unsigned quant q + 128.
template <> struct Format<GgmlType::Q8_0> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q8_0>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + c * kBlockBytes;
        const float d = halfAt(b);
#pragma unroll
        for (int i = 0; i < 8; ++i)
            out.q[i] = load32From16(b + 2 + 4 * i) ^ 0x80808080u;
        uniform(out, d, -128.0f * d);
    }
};

// The 4-bit quants of a 16-byte qs: low nibbles are elements 0..15, high nibbles 16..31.
__device__ __forceinline__ void splitNibbles(const uint32_t (&w)[4], Quants& out) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        out.q[i] = w[i] & 0x0F0F0F0Fu;
        out.q[i + 4] = (w[i] >> 4) & 0x0F0F0F0Fu;
    }
}

// d, qs[16], with a +8 bias.
template <> struct Format<GgmlType::Q4_0> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q4_0>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + c * kBlockBytes;
        const float d = halfAt(b);
        uint32_t w[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            w[i] = load32From16(b + 2 + 4 * i);
        splitNibbles(w, out);
        uniform(out, d, -8.0f * d);
    }
};

// d, m, qs[16]: y = q * d + m.
template <> struct Format<GgmlType::Q4_1> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q4_1>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + c * kBlockBytes;
        const uint32_t dm = load32(b);
        uint32_t w[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            w[i] = load32(b + 4 + 4 * i);
        splitNibbles(w, out);
        uniform(out, lowHalf(dm), highHalf(dm));
    }
};

// Adds the fifth bits of qh (bit j for element j) to split nibbles.
__device__ __forceinline__ void addFifthBits(uint32_t qh, Quants& out) {
#pragma unroll
    for (int i = 0; i < 8; ++i)
        out.q[i] |= spreadBits((qh >> (4 * i)) & 0xFu);
}

// d, qh[4], qs[16]: 5-bit quants with a +16 bias.
template <> struct Format<GgmlType::Q5_0> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q5_0>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + c * kBlockBytes;
        const float d = halfAt(b);
        uint32_t w[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            w[i] = load32From16(b + 6 + 4 * i);
        splitNibbles(w, out);
        addFifthBits(load32From16(b + 2), out);
        uniform(out, d, -16.0f * d);
    }
};

// d, m, qh[4], qs[16]: y = q * d + m with unsigned 5-bit quants.
template <> struct Format<GgmlType::Q5_1> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 32;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q5_1>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + c * kBlockBytes;
        const uint32_t dm = load32(b);
        uint32_t w[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            w[i] = load32(b + 8 + 4 * i);
        splitNibbles(w, out);
        addFifthBits(load32(b + 4), out);
        uniform(out, lowHalf(dm), highHalf(dm));
    }
};

// Byte j of the 12 scale bytes of a Q4_K/Q5_K super-block, held in three words (selects, not an
// indexed array: a run-time index into a register array would move it to local memory).
__device__ __forceinline__ int scaleByte(const uint32_t (&w)[3], int j) {
    const uint32_t word = j < 4 ? w[0] : (j < 8 ? w[1] : w[2]);
    return int((word >> (8 * (j & 3))) & 0xFF);
}

// The 6-bit scale and min of sub-block s (0..7) of a Q4_K/Q5_K super-block (get_scale_min_k4).
__device__ __forceinline__ void kScaleMin(const uint32_t (&w)[3], int sub, int& scale, int& min) {
    if (sub < 4) {
        scale = scaleByte(w, sub) & 63;
        min = scaleByte(w, sub + 4) & 63;
    } else {
        scale = (scaleByte(w, sub + 4) & 0xF) | ((scaleByte(w, sub - 4) >> 6) << 4);
        min = (scaleByte(w, sub + 4) >> 4) | ((scaleByte(w, sub) >> 6) << 4);
    }
}

// One 32-element sub-block of a Q4_K or Q5_K super-block: d, dmin, scales[12], then (Q5_K) qh[32]
// and qs[128]. Sub-block s takes the low (even s) or high (odd s) nibbles of qs[32 * (s / 2)..];
// Q5_K's fifth bit of element l is bit s of qh[l]. y = d*sc*q - dmin*mn.
template <bool fiveBit> struct FormatK {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 256;
    static constexpr int kBlockBytes =
        int(quant::kBlockBytes < fiveBit ? quant::GgmlType::Q5_K : quant::GgmlType::Q4_K >);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + (c / 8) * kBlockBytes;
        const int sub = int(c % 8);
        const uint32_t dm = load32(b);
        uint32_t scaleWords[3];
#pragma unroll
        for (int i = 0; i < 3; ++i)
            scaleWords[i] = load32(b + 4 + 4 * i);
        int sc, mn;
        kScaleMin(scaleWords, sub, sc, mn);
        uniform(out, lowHalf(dm) * float(sc), -(highHalf(dm) * float(mn)));

        const uint4* qs = reinterpret_cast<const uint4*>(b + (fiveBit ? 48 : 16) + 32 * (sub / 2));
        const uint4 qa = qs[0], qb = qs[1];
        const uint32_t words[8] = {qa.x, qa.y, qa.z, qa.w, qb.x, qb.y, qb.z, qb.w};
        const int shift = (sub % 2) * 4;
#pragma unroll
        for (int i = 0; i < 8; ++i)
            out.q[i] = (words[i] >> shift) & 0x0F0F0F0Fu;
        if constexpr (fiveBit) {
            const uint4* qh = reinterpret_cast<const uint4*>(b + 16);
            const uint4 ha = qh[0], hb = qh[1];
            const uint32_t high[8] = {ha.x, ha.y, ha.z, ha.w, hb.x, hb.y, hb.z, hb.w};
#pragma unroll
            for (int i = 0; i < 8; ++i)
                out.q[i] |= ((high[i] >> sub) & 0x01010101u) << 4;
        }
    }
};
template <> struct Format<GgmlType::Q4_K> : FormatK<false> {};
template <> struct Format<GgmlType::Q5_K> : FormatK<true> {};

// ql[128], qh[64], scales[16] (int8), d. Chunk r (0..3) of half h holds elements 32r..32r+31 of
// that half: low (r < 2) or high nibbles of ql[64h + 32(r % 2) + l], bits 2r..2r+1 of
// qh[32h + l], scale scales[8h + 2r + l / 16]; quants carry a +32 bias.
template <> struct Format<GgmlType::Q6_K> {
    static constexpr bool kFloat = false;
    using Raw = Quants;
    static constexpr int kBlockElements = 256;
    static constexpr int kBlockBytes = int(quant::kBlockBytes<quant::GgmlType::Q6_K>);
    __device__ static void load(const uint8_t* row, int64_t c, Quants& out) {
        const uint8_t* b = row + (c / 8) * kBlockBytes;
        const int half = int(c % 8) / 4, r = int(c % 4);
        const float d = halfAt(b + 208);
        const uint32_t scalePair = load16(b + 192 + 8 * half + 2 * r);
        out.scale[0] = d * float(int8_t(scalePair & 0xFF));
        out.scale[1] = d * float(int8_t(scalePair >> 8));
        out.offset[0] = -32.0f * out.scale[0];
        out.offset[1] = -32.0f * out.scale[1];
        const uint8_t* ql = b + 64 * half + 32 * (r % 2);
        const uint8_t* qh = b + 128 + 32 * half;
        const int nibbleShift = (r / 2) * 4;
#pragma unroll
        for (int i = 0; i < 8; ++i)
            out.q[i] = ((load32From16(ql + 4 * i) >> nibbleShift) & 0x0F0F0F0Fu) |
                       (((load32From16(qh + 4 * i) >> (2 * r)) & 0x03030303u) << 4);
    }
};

// The 32 values of a loaded chunk.
template <class Fmt>
__device__ __forceinline__ void chunkValues(const typename Fmt::Raw& raw, float (&y)[32]) {
    if constexpr (Fmt::kFloat) {
        Fmt::values(raw, y);
    } else {
#pragma unroll
        for (int j = 0; j < 32; ++j)
            y[j] = fmaf(raw.scale[j / 16], byteAsFloat(raw.q[j / 4], j % 4), raw.offset[j / 16]);
    }
}

// The 32 values of chunk c of a row.
template <class Fmt>
__device__ __forceinline__ void dequantizeChunk(const uint8_t* row, int64_t c, float (&y)[32]) {
    typename Fmt::Raw raw;
    Fmt::load(row, c, raw);
    chunkValues<Fmt>(raw, y);
}

} // namespace hip::kernels

// Runs the statements after `otherwise` with `Fmt` bound to Format<type>; `otherwise` runs for
// types without a kernel.
#define HIP_DISPATCH_FORMAT(type, otherwise, ...)                                                  \
    do {                                                                                           \
        using ::hip::quant::GgmlType;                                                              \
        switch (type) {                                                                            \
        case GgmlType::F32: {                                                                      \
            using Fmt = ::hip::kernels::Format<GgmlType::F32>;                                     \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::F16: {                                                                      \
            using Fmt = ::hip::kernels::Format<GgmlType::F16>;                                     \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::BF16: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::BF16>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q8_0: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q8_0>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q4_0: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q4_0>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q4_1: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q4_1>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q5_0: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q5_0>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q5_1: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q5_1>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q4_K: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q4_K>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q5_K: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q5_K>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        case GgmlType::Q6_K: {                                                                     \
            using Fmt = ::hip::kernels::Format<GgmlType::Q6_K>;                                    \
            __VA_ARGS__;                                                                           \
        } break;                                                                                   \
        default:                                                                                   \
            otherwise;                                                                             \
        }                                                                                          \
    } while (0)
