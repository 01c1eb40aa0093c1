#include "quant/dot.h"

#include "quant/avx2_kernels.h"
#include "quant/dequantize.h"
#include "quant/k_scales.h"

#include <algorithm>
#include <cstring>

// Block layouts as in dequantize.cpp. The kernels accumulate per block: the integer quants times
// x (in fp32, exact for these small integers) are summed first, then scaled once by the block's
// d; offsets (Q4_1's m, Q4_K's mins, Q4_0's bias of 8) multiply the sum of x over the block.

namespace hip::quant {
namespace {

constexpr int64_t kBufferElements = 256; // one K super-block, eight 32-element blocks

float plainDot(const float* a, const float* b, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

#ifdef HIP_QUANT_AVX2
using avx2::horizontalSum;
using avx2::scaleAt;

// Eight bytes (the low half of `bytes`) as floats, unsigned or signed.
HIP_AVX2 __m256 unsignedBytes(__m128i bytes) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}
HIP_AVX2 __m256 signedBytes(__m128i bytes) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}

// Sixteen unsigned bytes times x[0..15]: {sum q*x, sum x}.
struct Partial {
    __m256 qx, x;
};
HIP_AVX2 Partial dot16(__m128i q, const float* x) {
    const __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
    const __m256 qx = _mm256_fmadd_ps(unsignedBytes(_mm_unpackhi_epi64(q, q)), x1,
                                      _mm256_mul_ps(unsignedBytes(q), x0));
    return {qx, _mm256_add_ps(x0, x1)};
}

HIP_AVX2 float dotF32(const float* w, const float* x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc);
    return horizontalSum(acc);
}

HIP_AVX2 float dotBf16(const uint8_t* w, const float* x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
        const __m256 f = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        acc = _mm256_fmadd_ps(f, _mm256_loadu_ps(x + i), acc);
    }
    return horizontalSum(acc);
}

HIP_AVX2 float dotF16(const uint8_t* w, const float* x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(h), _mm256_loadu_ps(x + i), acc);
    }
    return horizontalSum(acc);
}

// d, qs[32] (int8).
HIP_AVX2 float dotQ8_0(const uint8_t* src, const float* x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q8_0>, x += 32) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 18));
        __m256 qx = _mm256_mul_ps(signedBytes(lo), _mm256_loadu_ps(x));
        qx = _mm256_fmadd_ps(signedBytes(_mm_unpackhi_epi64(lo, lo)), _mm256_loadu_ps(x + 8), qx);
        qx = _mm256_fmadd_ps(signedBytes(hi), _mm256_loadu_ps(x + 16), qx);
        qx = _mm256_fmadd_ps(signedBytes(_mm_unpackhi_epi64(hi, hi)), _mm256_loadu_ps(x + 24), qx);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scaleAt(src)), qx, acc);
    }
    return horizontalSum(acc);
}

// The low and high nibbles of 16 bytes: elements 0..15 and 16..31 of a 32-element block.
struct Nibbles {
    __m128i low, high;
};
HIP_AVX2 Nibbles nibbles(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i mask = _mm_set1_epi8(0x0F);
    return {_mm_and_si128(q, mask), _mm_and_si128(_mm_srli_epi16(q, 4), mask)};
}

// Bit j of `bits` (j < 16) as byte j: 16 if set, else 0 (the fifth bit of a 5-bit quant).
HIP_AVX2 __m128i fifthBits(uint32_t bits) {
    const __m128i spread =
        _mm_shuffle_epi8(_mm_set1_epi16(static_cast<short>(bits & 0xFFFFu)),
                         _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const __m128i mask = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(spread, mask), mask), _mm_set1_epi8(16));
}

// Bit b of each byte of `h`, as 16 or 0 (shifts within 16-bit lanes keep the bytes apart: each
// holds 0 or 1 after the mask).
HIP_AVX2 __m128i bitOfBytes(__m128i h, int b) {
    const __m128i one = _mm_and_si128(_mm_srl_epi16(h, _mm_cvtsi32_si128(b)), _mm_set1_epi8(1));
    return _mm_slli_epi16(one, 4);
}

// The 32-element formats with nibble quants: Q4_0 (d, qs[16], bias 8), Q4_1 (d, m, qs[16],
// y = q * d + m), Q5_0 (d, qh[4], qs[16], bias 16) and Q5_1 (d, m, qh[4], qs[16]). Bit j of qh
// is the fifth bit of element j.
template <bool withMin, bool fiveBit>
HIP_AVX2 float dotNibbleBlocks(const uint8_t* src, const float* x, int64_t blocks) {
    constexpr int kHeader = (withMin ? 4 : 2) + (fiveBit ? 4 : 0);
    constexpr int kBytes = kHeader + 16;
    constexpr float kBias = withMin ? 0.0f : (fiveBit ? 16.0f : 8.0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, src += kBytes, x += 32) {
        Nibbles n = nibbles(src + kHeader);
        if constexpr (fiveBit) {
            uint32_t qh;
            std::memcpy(&qh, src + kHeader - 4, sizeof qh);
            n.low = _mm_or_si128(n.low, fifthBits(qh));
            n.high = _mm_or_si128(n.high, fifthBits(qh >> 16));
        }
        const Partial low = dot16(n.low, x), high = dot16(n.high, x + 16);
        const __m256 qx = _mm256_add_ps(low.qx, high.qx), xs = _mm256_add_ps(low.x, high.x);
        const __m256 d = _mm256_set1_ps(scaleAt(src));
        if constexpr (withMin)
            acc =
                _mm256_fmadd_ps(_mm256_set1_ps(scaleAt(src + 2)), xs, _mm256_fmadd_ps(d, qx, acc));
        else
            acc = _mm256_fmadd_ps(d, _mm256_fmadd_ps(_mm256_set1_ps(-kBias), xs, qx), acc);
    }
    return horizontalSum(acc);
}

// d, dmin, scales[12], (fiveBit: qh[32],) qs[128]: chunk c of 64 elements takes 32 bytes, low
// nibbles for sub-block 2c, high nibbles for 2c + 1; bit 2c of qh[l] is the fifth bit of element
// l of sub-block 2c, bit 2c + 1 that of sub-block 2c + 1.
template <bool fiveBit> HIP_AVX2 float dotK(const uint8_t* src, const float* x, int64_t blocks) {
    constexpr int64_t kBytes = kBlockBytes < fiveBit ? GgmlType::Q5_K : GgmlType::Q4_K > ;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, src += kBytes) {
        const KScales k = unpackKScales(src + 4, scaleAt(src), scaleAt(src + 2));
        const uint8_t* qs = src + (fiveBit ? 48 : 16);
        __m128i qh[2] = {};
        if constexpr (fiveBit)
            for (int i = 0; i < 2; ++i)
                qh[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16 + 16 * i));
        for (int chunk = 0; chunk < 4; ++chunk, qs += 32, x += 64) {
            Nibbles first = nibbles(qs), second = nibbles(qs + 16);
            if constexpr (fiveBit) {
                first.low = _mm_or_si128(first.low, bitOfBytes(qh[0], 2 * chunk));
                second.low = _mm_or_si128(second.low, bitOfBytes(qh[1], 2 * chunk));
                first.high = _mm_or_si128(first.high, bitOfBytes(qh[0], 2 * chunk + 1));
                second.high = _mm_or_si128(second.high, bitOfBytes(qh[1], 2 * chunk + 1));
            }
            const Partial l0 = dot16(first.low, x), l1 = dot16(second.low, x + 16);
            const Partial h0 = dot16(first.high, x + 32), h1 = dot16(second.high, x + 48);
            const int lo = 2 * chunk, hi = lo + 1;
            acc = _mm256_fmadd_ps(_mm256_set1_ps(k.scale[lo]), _mm256_add_ps(l0.qx, l1.qx), acc);
            acc = _mm256_fnmadd_ps(_mm256_set1_ps(k.min[lo]), _mm256_add_ps(l0.x, l1.x), acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(k.scale[hi]), _mm256_add_ps(h0.qx, h1.qx), acc);
            acc = _mm256_fnmadd_ps(_mm256_set1_ps(k.min[hi]), _mm256_add_ps(h0.x, h1.x), acc);
        }
    }
    return horizontalSum(acc);
}

// Sixteen signed bytes (one Q6_K sub-block) times x[0..15], summed per lane.
HIP_AVX2 __m256 dotSigned16(__m128i q, const float* x) {
    return _mm256_fmadd_ps(signedBytes(_mm_unpackhi_epi64(q, q)), _mm256_loadu_ps(x + 8),
                           _mm256_mul_ps(signedBytes(q), _mm256_loadu_ps(x)));
}

// ql[128], qh[64], scales[16] (int8), d (last); quants carry a +32 bias. In each half, quarter r
// (32 elements, sub-blocks 2r and 2r + 1) takes its low four bits from ql (r = 0, 1: low nibbles
// of ql[0..31], ql[32..63]; r = 2, 3: their high nibbles) and its top two from bits 2r, 2r + 1
// of qh[0..31]. The quants are assembled 32 at a time in bytes.
HIP_AVX2 float dotQ6_K(const uint8_t* src, const float* x, int64_t blocks) {
    const __m256i bias = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, src += kBlockBytes<GgmlType::Q6_K>) {
        const float d = scaleAt(src + 208);
        const auto* scales = reinterpret_cast<const int8_t*>(src + 192);
        for (int half = 0; half < 2; ++half, x += 128) {
            const avx2::Q6Quarters q = avx2::q6kQuarters(src, half);
            for (int r = 0; r < 4; ++r) {
                const __m256i centred = _mm256_sub_epi8(q.q[r], bias);
                const float* xr = x + 32 * r;
                const int8_t* sc = scales + 8 * half + 2 * r;
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d * static_cast<float>(sc[0])),
                                      dotSigned16(_mm256_castsi256_si128(centred), xr), acc);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d * static_cast<float>(sc[1])),
                                      dotSigned16(_mm256_extracti128_si256(centred, 1), xr + 16),
                                      acc);
            }
        }
    }
    return horizontalSum(acc);
}

// The AVX2 kernel for `type`, or nothing (the portable path then runs).
bool dotRowAvx2(GgmlType type, const uint8_t* row, const float* x, int64_t cols, float& result) {
    switch (type) {
    case GgmlType::F32:
        if (cols % 8 != 0) return false;
        result = dotF32(reinterpret_cast<const float*>(row), x, cols);
        return true;
    case GgmlType::F16:
        if (cols % 8 != 0) return false;
        result = dotF16(row, x, cols);
        return true;
    case GgmlType::BF16:
        if (cols % 8 != 0) return false;
        result = dotBf16(row, x, cols);
        return true;
    case GgmlType::Q8_0:
        result = dotQ8_0(row, x, cols / 32);
        return true;
    case GgmlType::Q4_0:
        result = dotNibbleBlocks<false, false>(row, x, cols / 32);
        return true;
    case GgmlType::Q4_1:
        result = dotNibbleBlocks<true, false>(row, x, cols / 32);
        return true;
    case GgmlType::Q5_0:
        result = dotNibbleBlocks<false, true>(row, x, cols / 32);
        return true;
    case GgmlType::Q5_1:
        result = dotNibbleBlocks<true, true>(row, x, cols / 32);
        return true;
    case GgmlType::Q4_K:
        result = dotK<false>(row, x, cols / 256);
        return true;
    case GgmlType::Q5_K:
        result = dotK<true>(row, x, cols / 256);
        return true;
    case GgmlType::Q6_K:
        result = dotQ6_K(row, x, cols / 256);
        return true;
    default:
        return false;
    }
}

#endif

} // namespace

float dotRowPortable(GgmlType type, const void* row, const float* x, int64_t cols) {
    if (type == GgmlType::F32) return plainDot(static_cast<const float*>(row), x, cols);
    const auto* bytes = static_cast<const uint8_t*>(row);
    const int64_t blockElements = traits(type).blockSize;
    const int64_t chunk = std::max(blockElements, kBufferElements / blockElements * blockElements);
    const uint64_t chunkBytes = rowBytes(type, chunk).value_or(0);
    float buffer[kBufferElements];
    float sum = 0.0f;
    for (int64_t first = 0; first < cols; first += chunk, bytes += chunkBytes) {
        const int64_t n = std::min(chunk, cols - first);
        dequantizeRow(type, bytes, buffer, n);
        sum += plainDot(buffer, x + first, n);
    }
    return sum;
}

float dotRow(GgmlType type, const void* row, const float* x, int64_t cols) {
#ifdef HIP_QUANT_AVX2
    float result = 0.0f;
    if (avx2::supported() && dotRowAvx2(type, static_cast<const uint8_t*>(row), x, cols, result))
        return result;
#endif
    return dotRowPortable(type, row, x, cols);
}

} // namespace hip::quant
