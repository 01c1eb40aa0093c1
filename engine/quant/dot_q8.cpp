#include "quant/dot_q8.h"

#include "quant/avx2_kernels.h"
#include "quant/k_scales.h"

#include <algorithm>
#include <cmath>

// Block layouts as in dequantize.cpp. Each kernel sums, per 32-element activation block, the
// products of the integer weight quants with the activation quants in 32-bit lanes, and scales
// that sum once by the weight block's and the activation block's scales; offsets (Q4_1's m,
// Q4_K's mins) multiply the activation block's sum of quants.

namespace hip::quant {

void quantizeActivations(const float* x, int64_t cols, Q8Activations& out) {
    const int64_t blocks = cols / kQ8Block;
    out.scales.resize(size_t(blocks));
    out.sums.resize(size_t(blocks));
    out.quants.resize(size_t(cols));
    for (int64_t b = 0; b < blocks; ++b) {
        const float* xb = x + b * kQ8Block;
        float largest = 0.0f;
        for (int64_t i = 0; i < kQ8Block; ++i)
            largest = std::max(largest, std::abs(xb[i]));
        const float scale = largest / 127.0f;
        const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
        int8_t* q = out.quants.data() + b * kQ8Block;
        int32_t sum = 0;
        for (int64_t i = 0; i < kQ8Block; ++i) {
            q[i] = static_cast<int8_t>(std::nearbyint(xb[i] * inverse));
            sum += q[i];
        }
        out.scales[size_t(b)] = scale;
        out.sums[size_t(b)] = scale * float(sum);
    }
}

#ifdef HIP_QUANT_AVX2
namespace {

using avx2::horizontalSum;
using avx2::scaleAt;

HIP_AVX2 __m256i loadQuants(const int8_t* q) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
}

// 32 unsigned weight bytes (below 128) times 32 signed activation bytes, summed in pairs of
// pairs: 8 int32 lanes, lane k holding elements 4k..4k+3 (no overflow: 2 * 127 * 128 < 2^15).
HIP_AVX2 __m256i dotBytes(__m256i unsignedWeights, __m256i activations) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(unsignedWeights, activations),
                             _mm256_set1_epi16(1));
}

// The same for signed weights: the sign moves onto the activations.
HIP_AVX2 __m256i dotSignedBytes(__m256i weights, __m256i activations) {
    return dotBytes(_mm256_sign_epi8(weights, weights), _mm256_sign_epi8(activations, weights));
}

// The low and high nibbles of 16 bytes as 32 bytes in element order (low nibbles first).
HIP_AVX2 __m256i nibbles16(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i mask = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
}

// d, qs[32] (int8).
HIP_AVX2 float dotQ8_0(const uint8_t* src, const Q8Activations& x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, src += 34) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2));
        const __m256i sum = dotSignedBytes(w, loadQuants(x.quants.data() + b * 32));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scaleAt(src) * x.scales[size_t(b)]),
                              _mm256_cvtepi32_ps(sum), acc);
    }
    return horizontalSum(acc);
}

// d, m, qs[16]: y = q * d + m. Two blocks per step, on separate accumulators.
HIP_AVX2 float dotQ4_1(const uint8_t* src, const Q8Activations& x, int64_t blocks) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float offsets[2] = {0.0f, 0.0f};
    const int8_t* xq = x.quants.data();
    for (int64_t b = 0; b < blocks; ++b, src += 20, xq += 32) {
        const int k = int(b & 1);
        const __m256i sum = dotBytes(nibbles16(src + 4), loadQuants(xq));
        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(scaleAt(src) * x.scales[size_t(b)]),
                                 _mm256_cvtepi32_ps(sum), acc[k]);
        offsets[k] += scaleAt(src + 2) * x.sums[size_t(b)];
    }
    return horizontalSum(_mm256_add_ps(acc[0], acc[1])) + offsets[0] + offsets[1];
}

// d, dmin, scales[12], qs[128]: chunk c of 64 elements takes 32 bytes, low nibbles for sub-block
// 2c, high nibbles for 2c + 1; y = d * scale * q - dmin * min per 32-element sub-block.
HIP_AVX2 float dotQ4_K(const uint8_t* src, const Q8Activations& x, int64_t superBlocks) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0.0f;
    for (int64_t s = 0; s < superBlocks; ++s, src += 144) {
        const KScales k = unpackKScales(src + 4, scaleAt(src), scaleAt(src + 2));
        const uint8_t* qs = src + 16;
        for (int chunk = 0; chunk < 4; ++chunk, qs += 32) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
            const __m256i halves[2] = {_mm256_and_si256(q, mask),
                                       _mm256_and_si256(_mm256_srli_epi16(q, 4), mask)};
            for (int h = 0; h < 2; ++h) {
                const int sub = 2 * chunk + h;
                const size_t b = size_t(s * 8 + sub);
                const __m256i sum = dotBytes(halves[h], loadQuants(x.quants.data() + b * 32));
                acc = _mm256_fmadd_ps(_mm256_set1_ps(k.scale[sub] * x.scales[b]),
                                      _mm256_cvtepi32_ps(sum), acc);
                offsets += k.min[sub] * x.sums[b];
            }
        }
    }
    return horizontalSum(acc) - offsets;
}

// ql[128], qh[64], scales[16] (int8, one per 16 elements), d (last); quants carry a +32 bias and
// are assembled 32 at a time (avx2::q6kQuarters).
HIP_AVX2 float dotQ6_K(const uint8_t* src, const Q8Activations& x, int64_t superBlocks) {
    const __m256i bias = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t s = 0; s < superBlocks; ++s, src += 210) {
        const float d = scaleAt(src + 208);
        const auto* scales = reinterpret_cast<const int8_t*>(src + 192);
        for (int half = 0; half < 2; ++half) {
            const avx2::Q6Quarters q = avx2::q6kQuarters(src, half);
            for (int r = 0; r < 4; ++r) {
                const size_t b = size_t(s * 8 + half * 4 + r);
                const __m256i centred = _mm256_sub_epi8(q.q[r], bias);
                const __m256i w = _mm256_sign_epi8(centred, centred);
                const __m256i xq = _mm256_sign_epi8(loadQuants(x.quants.data() + b * 32), centred);
                // Pair sums in 16 bits (|sum| <= 2 * 32 * 127), then each 16-element half times
                // its own scale while widening to 32 bits.
                const int8_t* sc = scales + 8 * half + 2 * r;
                const __m256i halfScales =
                    _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
                const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(w, xq), halfScales);
                acc =
                    _mm256_fmadd_ps(_mm256_set1_ps(d * x.scales[b]), _mm256_cvtepi32_ps(sum), acc);
            }
        }
    }
    return horizontalSum(acc);
}

} // namespace
#endif

bool hasQ8Dot(GgmlType type) {
#ifdef HIP_QUANT_AVX2
    switch (type) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_1:
    case GgmlType::Q4_K:
    case GgmlType::Q6_K:
        return avx2::supported();
    default:
        return false;
    }
#else
    (void)type;
    return false;
#endif
}

float dotRowQ8(GgmlType type, const void* row, const Q8Activations& x, int64_t cols) {
#ifdef HIP_QUANT_AVX2
    const auto* bytes = static_cast<const uint8_t*>(row);
    switch (type) {
    case GgmlType::Q8_0:
        return dotQ8_0(bytes, x, cols / 32);
    case GgmlType::Q4_1:
        return dotQ4_1(bytes, x, cols / 32);
    case GgmlType::Q4_K:
        return dotQ4_K(bytes, x, cols / 256);
    case GgmlType::Q6_K:
        return dotQ6_K(bytes, x, cols / 256);
    default:
        break;
    }
#endif
    (void)type, (void)row, (void)x, (void)cols;
    return 0.0f;
}

} // namespace hip::quant
