#include "quant/dequantize.h"

#include "quant/k_scales.h"

#include <bit>
#include <cassert>
#include <cstring>

// Block layouts: ggml's ggml-common.h (summarised in the project's reference notes,
// models-and-formats.md section 2). Every product below is exact in fp32: an fp16 scale has 11
// significant bits and the integers it multiplies (sub-scale times quant) at most 13. So the only
// rounding is the final add of an offset (Q4_1, Q5_1, Q4_K, Q5_K), and the results are
// bit-identical to ggml's and gguf-py's whatever the evaluation order or use of FMA.

namespace hip::quant {

static_assert(std::endian::native == std::endian::little,
              "block fields are read in place, which assumes a little-endian host");

float halfToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    // Normal: rebias the exponent from 15 to 127. Inf/NaN (31) go to 255, keeping a NaN's payload.
    const uint32_t rebiased = exponent + 112u + (exponent == 0x1F ? 112u : 0u);
    const uint32_t normal = (rebiased << 23) | (mantissa << 13);
    // Zero and subnormal: mantissa * 2^-24, exact in fp32 (converted as int, which vectorizes).
    const uint32_t subnormal =
        std::bit_cast<uint32_t>(static_cast<float>(static_cast<int>(mantissa)) * 0x1p-24f);
    // A mask select instead of a branch lets loops over halfs vectorize.
    const uint32_t normalMask = 0u - static_cast<uint32_t>(exponent != 0);
    return std::bit_cast<float>(sign | (normal & normalMask) | (subnormal & ~normalMask));
}

uint16_t floatToHalf(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) // NaN: keep the top payload bits and make it quiet
        return static_cast<uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
    if (magnitude >= 0x477FF000u) // >= 65520, halfway to 2^16: rounds to infinity (ties to even)
        return static_cast<uint16_t>(sign | 0x7C00u);
    if (magnitude >= 0x38800000u) { // normal half (>= 2^-14)
        // Rebias the exponent, then round the 13 dropped bits to nearest even; a carry out of the
        // mantissa correctly bumps the exponent.
        const uint32_t rebiased = magnitude - (112u << 23);
        const uint32_t rounded = rebiased + 0xFFFu + ((rebiased >> 13) & 1u);
        return static_cast<uint16_t>(sign | (rounded >> 13));
    }
    if (magnitude <= 0x33000000u) // <= 2^-25, at most half the smallest subnormal: rounds to zero
        return sign;
    // Subnormal half: the value in units of 2^-24, rounded to nearest even. A result of 0x400 is
    // the smallest normal, which is also its correct encoding.
    const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - (magnitude >> 23); // 14..24 for this range
    const uint32_t truncated = significand >> shift;
    const uint32_t remainder = significand & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    const bool roundUp = remainder > halfway || (remainder == halfway && (truncated & 1u));
    return static_cast<uint16_t>(sign | (truncated + (roundUp ? 1u : 0u)));
}

float halfAt(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return halfToFloat(h);
}

float bf16ToFloat(uint16_t b) {
    return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

uint16_t floatToBf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) // NaN: truncate and force quiet, as ggml does
        return static_cast<uint16_t>((bits >> 16) | 0x40u);
    // Round to nearest even; overflow correctly carries into infinity.
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

namespace {

constexpr int kQK = 32;   // elements per block of the 32-element formats
constexpr int kQKK = 256; // elements per K-quant super-block

float toFloat(int v) {
    return static_cast<float>(v);
}

void dequantizeF16(const uint8_t* src, float* dst, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
        dst[i] = halfAt(src + 2 * i);
}

void dequantizeBf16(const uint8_t* src, float* dst, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, sizeof b);
        dst[i] = bf16ToFloat(b);
    }
}

// d, qs[32] (int8).
void dequantizeQ8_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q8_0>, dst += kQK) {
        const float d = halfAt(src);
        const auto* qs = reinterpret_cast<const int8_t*>(src + 2);
        for (int j = 0; j < kQK; ++j)
            dst[j] = toFloat(qs[j]) * d;
    }
}

// d, qs[16]: low nibbles are elements 0..15, high nibbles 16..31, stored with a +8 bias.
void dequantizeQ4_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q4_0>, dst += kQK) {
        const float d = halfAt(src);
        const uint8_t* qs = src + 2;
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = toFloat((qs[j] & 0xF) - 8) * d;
            dst[j + kQK / 2] = toFloat((qs[j] >> 4) - 8) * d;
        }
    }
}

// d, m, qs[16]: y = q * d + m with unsigned nibbles.
void dequantizeQ4_1(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q4_1>, dst += kQK) {
        const float d = halfAt(src);
        const float m = halfAt(src + 2);
        const uint8_t* qs = src + 4;
        for (int j = 0; j < kQK / 2; ++j) {
            dst[j] = toFloat(qs[j] & 0xF) * d + m;
            dst[j + kQK / 2] = toFloat(qs[j] >> 4) * d + m;
        }
    }
}

// Bit j of the little-endian word qh is the fifth (value 16) bit of element j.
uint32_t readHighBits(const uint8_t* p) {
    uint32_t qh;
    std::memcpy(&qh, p, sizeof qh);
    return qh;
}

int fifthBit(uint32_t qh, int element) {
    return static_cast<int>((qh >> element) & 1u) << 4;
}

// d, qh[4], qs[16]: 5-bit quants with a +16 bias.
void dequantizeQ5_0(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q5_0>, dst += kQK) {
        const float d = halfAt(src);
        const uint32_t qh = readHighBits(src + 2);
        const uint8_t* qs = src + 6;
        for (int j = 0; j < kQK / 2; ++j) {
            const int low = (qs[j] & 0xF) | fifthBit(qh, j);
            const int high = (qs[j] >> 4) | fifthBit(qh, j + kQK / 2);
            dst[j] = toFloat(low - 16) * d;
            dst[j + kQK / 2] = toFloat(high - 16) * d;
        }
    }
}

// d, m, qh[4], qs[16]: y = q * d + m with unsigned 5-bit quants.
void dequantizeQ5_1(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q5_1>, dst += kQK) {
        const float d = halfAt(src);
        const float m = halfAt(src + 2);
        const uint32_t qh = readHighBits(src + 4);
        const uint8_t* qs = src + 8;
        for (int j = 0; j < kQK / 2; ++j) {
            const int low = (qs[j] & 0xF) | fifthBit(qh, j);
            const int high = (qs[j] >> 4) | fifthBit(qh, j + kQK / 2);
            dst[j] = toFloat(low) * d + m;
            dst[j + kQK / 2] = toFloat(high) * d + m;
        }
    }
}

// d, dmin, scales[12], qs[128]. Four chunks of 64 elements share 32 bytes: the low nibbles are
// sub-block 2c, the high nibbles sub-block 2c+1. y = d*sc*q - dmin*mn.
void dequantizeQ4_K(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q4_K>, dst += kQKK) {
        const KScales k = unpackKScales(src + 4, halfAt(src), halfAt(src + 2));
        const uint8_t* qs = src + 16;
        for (int chunk = 0; chunk < 4; ++chunk, qs += 32) {
            const int lo = 2 * chunk;
            const int hi = lo + 1;
            float* y = dst + 64 * chunk;
            for (int l = 0; l < 32; ++l) {
                y[l] = k.scale[lo] * toFloat(qs[l] & 0xF) - k.min[lo];
                y[l + 32] = k.scale[hi] * toFloat(qs[l] >> 4) - k.min[hi];
            }
        }
    }
}

// As Q4_K plus qh[32]: bit 2c of qh[l] is the fifth bit of element l of chunk c's low half, bit
// 2c+1 that of its high half.
void dequantizeQ5_K(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q5_K>, dst += kQKK) {
        const KScales k = unpackKScales(src + 4, halfAt(src), halfAt(src + 2));
        const uint8_t* qh = src + 16;
        const uint8_t* qs = src + 48;
        for (int chunk = 0; chunk < 4; ++chunk, qs += 32) {
            const int lo = 2 * chunk;
            const int hi = lo + 1;
            float* y = dst + 64 * chunk;
            for (int l = 0; l < 32; ++l) {
                const int qLow = (qs[l] & 0xF) | (((qh[l] >> lo) & 1) << 4);
                const int qHigh = (qs[l] >> 4) | (((qh[l] >> hi) & 1) << 4);
                y[l] = k.scale[lo] * toFloat(qLow) - k.min[lo];
                y[l + 32] = k.scale[hi] * toFloat(qHigh) - k.min[hi];
            }
        }
    }
}

// ql[128], qh[64], scales[16] (int8), d (last). Element e uses scale e/16. Each half of 128
// elements takes 64 ql bytes and 32 qh bytes: element l (< 32) of quarter r gets its low nibble
// from ql[l + 32*(r%2)] (low nibble for r < 2, high for r >= 2) and its top two bits from bits
// 2r..2r+1 of qh[l]; quants carry a +32 bias.
void dequantizeQ6_K(const uint8_t* src, float* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q6_K>, dst += kQKK) {
        const float d = halfAt(src + 208);
        const auto* scales = reinterpret_cast<const int8_t*>(src + 192);
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = src + 64 * half;
            const uint8_t* qh = src + 128 + 32 * half;
            float* y = dst + 128 * half;
            float scale[8];
            for (int s = 0; s < 8; ++s)
                scale[s] = d * toFloat(scales[8 * half + s]);
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = scale[is] * toFloat(q1);
                y[l + 32] = scale[is + 2] * toFloat(q2);
                y[l + 64] = scale[is + 4] * toFloat(q3);
                y[l + 96] = scale[is + 6] * toFloat(q4);
            }
        }
    }
}

} // namespace

void dequantizeRow(GgmlType type, const void* src, float* dst, int64_t count) {
    const auto* bytes = static_cast<const uint8_t*>(src);
    switch (type) {
    case GgmlType::F32:
        std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(float));
        return;
    case GgmlType::F16:
        return dequantizeF16(bytes, dst, count);
    case GgmlType::BF16:
        return dequantizeBf16(bytes, dst, count);
    case GgmlType::Q8_0:
        return dequantizeQ8_0(bytes, dst, count / kQK);
    case GgmlType::Q4_0:
        return dequantizeQ4_0(bytes, dst, count / kQK);
    case GgmlType::Q4_1:
        return dequantizeQ4_1(bytes, dst, count / kQK);
    case GgmlType::Q5_0:
        return dequantizeQ5_0(bytes, dst, count / kQK);
    case GgmlType::Q5_1:
        return dequantizeQ5_1(bytes, dst, count / kQK);
    case GgmlType::Q4_K:
        return dequantizeQ4_K(bytes, dst, count / kQKK);
    case GgmlType::Q5_K:
        return dequantizeQ5_K(bytes, dst, count / kQKK);
    case GgmlType::Q6_K:
        return dequantizeQ6_K(bytes, dst, count / kQKK);
    default:
        assert(false && "dequantizeRow: type is not dequantizable");
        return;
    }
}

} // namespace hip::quant
