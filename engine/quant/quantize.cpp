#include "quant/quantize.h"

#include "quant/dequantize.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

// The 32-element formats reproduce ggml's reference quantizers operation by operation (fp32
// arithmetic, the same rounding and truncation), which is what makes them bit-exact; see
// roundedProduct for the one place where the compiler must be kept from fusing operations.
//
// K-quants (Q4_K, Q5_K, Q6_K) are this engine's own method, in three steps per super-block:
//  1. Fit every sub-block alone in full precision: start from its min/max range, then alternate
//     "assign each element its nearest level" and "least-squares refit of scale (and offset) to
//     those levels" while the squared error drops. Each step cannot increase the error, so this
//     converges to a local optimum at least as good as the plain min/max quantizer.
//  2. Encode the sub-block scales (and offsets) with the format's fp16 super-block scale and 6- or
//     8-bit sub-scales, rounding to nearest.
//  3. Re-assign every element's level against the scales as the decoder will see them.

namespace hip::quant {

namespace {

constexpr int kQK = 32;
constexpr int kQKK = 256;
constexpr int kMaxRefinements = 8; // the refit rarely improves after 3-4 rounds

// a * b rounded to fp32 on its own. The reference quantizers round x * (1/d) before adding the
// level offset; without the volatile round trip a compiler may fuse multiply and add into an FMA
// (GCC does, even across statements, whenever the target has FMA, e.g. -march=native), skipping
// that rounding and moving values that lie next to a level boundary to the other level.
float roundedProduct(float a, float b) {
    const volatile float product = a * b;
    return product;
}

void writeHalf(uint8_t* p, float value) {
    const uint16_t h = floatToHalf(value);
    std::memcpy(p, &h, sizeof h);
}

// Truncates toward zero, like the float-to-int casts of ggml's reference quantizers, and clamps
// to [0, maxLevel].
// NaN (only from degenerate input) maps to 0 instead of reaching an undefined conversion.
uint8_t truncatedLevel(float v, int maxLevel) {
    if (!(v >= 0.0f)) return 0;
    if (v >= static_cast<float>(maxLevel)) return static_cast<uint8_t>(maxLevel);
    return static_cast<uint8_t>(v);
}

// Rounds half away from zero (roundf) and clamps to [lo, hi]; NaN maps to lo.
int nearestLevel(float v, int lo, int hi) {
    if (!(v > static_cast<float>(lo))) return lo;
    if (v >= static_cast<float>(hi)) return hi;
    return static_cast<int>(std::round(v));
}

// The element with the largest magnitude, keeping its sign; the first one on ties.
float largestMagnitude(const float* x, int n) {
    float best = x[0];
    for (int i = 1; i < n; ++i)
        if (std::fabs(x[i]) > std::fabs(best)) best = x[i];
    return best;
}

void quantizeF16(const float* src, uint8_t* dst, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
        writeHalf(dst + 2 * i, src[i]);
}

void quantizeBf16(const float* src, uint8_t* dst, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
        const uint16_t b = floatToBf16(src[i]);
        std::memcpy(dst + 2 * i, &b, sizeof b);
    }
}

// d = amax / 127, q = round(x / d).
void quantizeQ8_0(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kQK, dst += kBlockBytes<GgmlType::Q8_0>) {
        float amax = 0.0f;
        for (int j = 0; j < kQK; ++j)
            amax = std::max(amax, std::fabs(src[j]));
        const float d = amax / 127.0f;
        const float id = d == 0.0f ? 0.0f : 1.0f / d;
        writeHalf(dst, d);
        for (int j = 0; j < kQK; ++j) {
            const float scaled = src[j] * id; // no add follows, so nothing can fuse with it
            dst[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(nearestLevel(scaled, -127, 127)));
        }
    }
}

// Symmetric 4/5-bit: d = (element of largest magnitude) / -2^(bits-1), so that element maps to the
// most negative level exactly; q = trunc(x / d + 2^(bits-1) + 0.5) clamped to the level range.
void quantizeSymmetricLevels(const float* x, int bits, uint8_t* d16, uint8_t* q) {
    const float bias = static_cast<float>(1 << (bits - 1));
    const float d = largestMagnitude(x, kQK) / -bias;
    const float id = d == 0.0f ? 0.0f : 1.0f / d;
    writeHalf(d16, d);
    const float rounding = bias + 0.5f;
    for (int j = 0; j < kQK; ++j) {
        const float shifted = roundedProduct(x[j], id) + rounding;
        q[j] = truncatedLevel(shifted, (1 << bits) - 1);
    }
}

// Asymmetric 4/5-bit: d = (max - min) / (2^bits - 1), m = min, q = trunc((x - min) / d + 0.5).
void quantizeAffineLevels(const float* x, int bits, uint8_t* dm16, uint8_t* q) {
    const int maxLevel = (1 << bits) - 1;
    const auto [lo, hi] = std::minmax_element(x, x + kQK);
    const float min = *lo;
    const float d = (*hi - min) / static_cast<float>(maxLevel);
    const float id = d == 0.0f ? 0.0f : 1.0f / d;
    writeHalf(dm16, d);
    writeHalf(dm16 + 2, min);
    for (int j = 0; j < kQK; ++j) {
        const float shifted = roundedProduct(x[j] - min, id) + 0.5f;
        q[j] = truncatedLevel(shifted, maxLevel);
    }
}

// Low nibbles hold elements 0..15, high nibbles 16..31.
void packNibbles(const uint8_t* q, uint8_t* qs) {
    for (int j = 0; j < kQK / 2; ++j)
        qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kQK / 2] & 0xF) << 4));
}

// Bit j of the little-endian word is bit 4 of element j.
void packFifthBits(const uint8_t* q, uint8_t* qh) {
    uint32_t bits = 0;
    for (int j = 0; j < kQK; ++j)
        bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    std::memcpy(qh, &bits, sizeof bits);
}

void quantizeQ4_0(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQK];
    for (int64_t b = 0; b < blocks; ++b, src += kQK, dst += kBlockBytes<GgmlType::Q4_0>) {
        quantizeSymmetricLevels(src, 4, dst, q);
        packNibbles(q, dst + 2);
    }
}

void quantizeQ4_1(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQK];
    for (int64_t b = 0; b < blocks; ++b, src += kQK, dst += kBlockBytes<GgmlType::Q4_1>) {
        quantizeAffineLevels(src, 4, dst, q);
        packNibbles(q, dst + 4);
    }
}

void quantizeQ5_0(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQK];
    for (int64_t b = 0; b < blocks; ++b, src += kQK, dst += kBlockBytes<GgmlType::Q5_0>) {
        quantizeSymmetricLevels(src, 5, dst, q);
        packFifthBits(q, dst + 2);
        packNibbles(q, dst + 6);
    }
}

void quantizeQ5_1(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQK];
    for (int64_t b = 0; b < blocks; ++b, src += kQK, dst += kBlockBytes<GgmlType::Q5_1>) {
        quantizeAffineLevels(src, 5, dst, q);
        packFifthBits(q, dst + 4);
        packNibbles(q, dst + 8);
    }
}

// ---- K-quants ----

// x ≈ scale * q + offset with integer q in [0, maxLevel]; offset <= 0 because Q4_K/Q5_K store it
// as -dmin * mn with dmin, mn >= 0.
struct AffineFit {
    float scale = 0.0f;
    float offset = 0.0f;
};

int affineLevel(float x, AffineFit fit, int maxLevel) {
    return fit.scale > 0.0f ? nearestLevel((x - fit.offset) / fit.scale, 0, maxLevel) : 0;
}

double affineError(const float* x, int n, AffineFit fit, int maxLevel) {
    double error = 0.0;
    for (int i = 0; i < n; ++i) {
        const double y = double(fit.scale) * affineLevel(x[i], fit, maxLevel) + fit.offset;
        error += (x[i] - y) * (x[i] - y);
    }
    return error;
}

AffineFit fitAffine(const float* x, int n, int maxLevel) {
    const auto [lo, hi] = std::minmax_element(x, x + n);
    const float offset = std::min(*lo, 0.0f);
    AffineFit best{(*hi - offset) / static_cast<float>(maxLevel), offset};
    if (!(best.scale > 0.0f)) return best;
    double bestError = affineError(x, n, best, maxLevel);
    for (int round = 0; round < kMaxRefinements; ++round) {
        // Least squares for scale and offset given the current levels.
        double sumQ = 0, sumQQ = 0, sumX = 0, sumQX = 0;
        for (int i = 0; i < n; ++i) {
            const double q = affineLevel(x[i], best, maxLevel);
            sumQ += q;
            sumQQ += q * q;
            sumX += x[i];
            sumQX += q * x[i];
        }
        const double det = n * sumQQ - sumQ * sumQ;
        if (det <= 0.0) break;
        double scale = (n * sumQX - sumQ * sumX) / det;
        double fitOffset = (sumX - scale * sumQ) / n;
        if (fitOffset > 0.0) { // constrained optimum lies on the boundary offset = 0
            fitOffset = 0.0;
            scale = sumQX / sumQQ;
        }
        const AffineFit candidate{static_cast<float>(scale), static_cast<float>(fitOffset)};
        if (!(candidate.scale > 0.0f)) break;
        const double error = affineError(x, n, candidate, maxLevel);
        if (!(error < bestError)) break;
        best = candidate;
        bestError = error;
    }
    return best;
}

// x ≈ scale * q with integer q in [-32, 31] (Q6_K); scale may be negative.
int symmetricLevel(float x, float scale) {
    return scale != 0.0f ? nearestLevel(x / scale, -32, 31) : 0;
}

double symmetricError(const float* x, int n, float scale) {
    double error = 0.0;
    for (int i = 0; i < n; ++i) {
        const double y = double(scale) * symmetricLevel(x[i], scale);
        error += (x[i] - y) * (x[i] - y);
    }
    return error;
}

float fitSymmetric(const float* x, int n) {
    // Start with the largest magnitude on level -32, the end with the extra level.
    float best = largestMagnitude(x, n) / -32.0f;
    if (best == 0.0f) return best;
    double bestError = symmetricError(x, n, best);
    for (int round = 0; round < kMaxRefinements; ++round) {
        double sumQQ = 0, sumQX = 0;
        for (int i = 0; i < n; ++i) {
            const double q = symmetricLevel(x[i], best);
            sumQQ += q * q;
            sumQX += q * x[i];
        }
        if (sumQQ == 0.0) break;
        const auto candidate = static_cast<float>(sumQX / sumQQ);
        const double error = symmetricError(x, n, candidate);
        if (!(error < bestError)) break;
        best = candidate;
        bestError = error;
    }
    return best;
}

// The fp16 super-block scale that spreads `largest` over sub-scales up to `maxSubScale`, as the
// decoder will read it back.
float superScale(float largest, int maxSubScale) {
    return halfToFloat(floatToHalf(largest / static_cast<float>(maxSubScale)));
}

int subScale(float value, float super, int lo, int hi) {
    return super != 0.0f ? nearestLevel(value / super, lo, hi) : 0;
}

// Q4_K/Q5_K header: d, dmin, then the eight 6-bit scales and mins packed into 12 bytes (the
// inverse of the decoder's get_scale_min_k4 layout). Returns the effective per-sub-block scales
// and offsets the decoder will use.
void encodeKHeader(const AffineFit (&fits)[8], uint8_t* dst, AffineFit (&effective)[8]) {
    float largestScale = 0.0f;
    float largestMin = 0.0f;
    for (const AffineFit& fit : fits) {
        largestScale = std::max(largestScale, fit.scale);
        largestMin = std::max(largestMin, -fit.offset);
    }
    const float d = superScale(largestScale, 63);
    const float dmin = superScale(largestMin, 63);
    writeHalf(dst, d);
    writeHalf(dst + 2, dmin);
    int sc[8];
    int mn[8];
    for (int j = 0; j < 8; ++j) {
        sc[j] = subScale(fits[j].scale, d, 0, 63);
        mn[j] = subScale(-fits[j].offset, dmin, 0, 63);
        effective[j] = {d * static_cast<float>(sc[j]), -(dmin * static_cast<float>(mn[j]))};
    }
    uint8_t* s = dst + 4;
    for (int j = 0; j < 4; ++j) {
        s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
}

// Levels of one Q4_K/Q5_K super-block against the encoded scales; writes the header to `dst`.
void quantizeKAffine(const float* x, int maxLevel, uint8_t* dst, uint8_t (&q)[kQKK]) {
    AffineFit fits[8];
    for (int j = 0; j < 8; ++j)
        fits[j] = fitAffine(x + kQK * j, kQK, maxLevel);
    AffineFit effective[8];
    encodeKHeader(fits, dst, effective);
    for (int i = 0; i < kQKK; ++i)
        q[i] = static_cast<uint8_t>(affineLevel(x[i], effective[i / kQK], maxLevel));
}

// Chunk c of 64 elements shares 32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high.
void packKNibbles(const uint8_t (&q)[kQKK], uint8_t* qs) {
    for (int chunk = 0; chunk < 4; ++chunk)
        for (int l = 0; l < 32; ++l)
            qs[32 * chunk + l] = static_cast<uint8_t>((q[64 * chunk + l] & 0xF) |
                                                      ((q[64 * chunk + 32 + l] & 0xF) << 4));
}

void quantizeQ4_K(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQKK];
    for (int64_t b = 0; b < blocks; ++b, src += kQKK, dst += kBlockBytes<GgmlType::Q4_K>) {
        quantizeKAffine(src, 15, dst, q);
        packKNibbles(q, dst + 16);
    }
}

void quantizeQ5_K(const float* src, uint8_t* dst, int64_t blocks) {
    uint8_t q[kQKK];
    for (int64_t b = 0; b < blocks; ++b, src += kQKK, dst += kBlockBytes<GgmlType::Q5_K>) {
        quantizeKAffine(src, 31, dst, q);
        // qh[l]: bit 2c is the fifth bit of element l of chunk c's low half, bit 2c+1 of its high.
        uint8_t* qh = dst + 16;
        for (int l = 0; l < 32; ++l) {
            int bits = 0;
            for (int chunk = 0; chunk < 4; ++chunk) {
                bits |= ((q[64 * chunk + l] >> 4) & 1) << (2 * chunk);
                bits |= ((q[64 * chunk + 32 + l] >> 4) & 1) << (2 * chunk + 1);
            }
            qh[l] = static_cast<uint8_t>(bits);
        }
        packKNibbles(q, dst + 48);
    }
}

// ql[128], qh[64], scales[16], d. See dequantizeQ6_K for the bit placement.
void quantizeQ6_K(const float* src, uint8_t* dst, int64_t blocks) {
    for (int64_t b = 0; b < blocks; ++b, src += kQKK, dst += kBlockBytes<GgmlType::Q6_K>) {
        float fits[16];
        float largest = 0.0f;
        for (int j = 0; j < 16; ++j) {
            fits[j] = fitSymmetric(src + 16 * j, 16);
            largest = std::max(largest, std::fabs(fits[j]));
        }
        const float d = superScale(largest, 127);
        writeHalf(dst + 208, d);
        uint8_t q[kQKK]; // biased by +32, 0..63
        for (int j = 0; j < 16; ++j) {
            const int sc = subScale(fits[j], d, -127, 127);
            dst[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(sc));
            const float scale = d * static_cast<float>(sc);
            for (int i = 16 * j; i < 16 * (j + 1); ++i)
                q[i] = static_cast<uint8_t>(symmetricLevel(src[i], scale) + 32);
        }
        for (int half = 0; half < 2; ++half) {
            const uint8_t* h = q + 128 * half;
            uint8_t* ql = dst + 64 * half;
            uint8_t* qh = dst + 128 + 32 * half;
            for (int l = 0; l < 32; ++l) {
                ql[l] = static_cast<uint8_t>((h[l] & 0xF) | ((h[l + 64] & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((h[l + 32] & 0xF) | ((h[l + 96] & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((h[l] >> 4) | ((h[l + 32] >> 4) << 2) |
                                             ((h[l + 64] >> 4) << 4) | ((h[l + 96] >> 4) << 6));
            }
        }
    }
}

} // namespace

// Every format the engine reads, it can also write (tests and make-model need each of them).
bool canQuantize(GgmlType type) {
    return traits(type).dequantizable;
}

void quantizeRow(GgmlType type, const float* src, void* dst, int64_t count) {
    auto* bytes = static_cast<uint8_t*>(dst);
    switch (type) {
    case GgmlType::F32:
        std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(float));
        return;
    case GgmlType::F16:
        return quantizeF16(src, bytes, count);
    case GgmlType::BF16:
        return quantizeBf16(src, bytes, count);
    case GgmlType::Q8_0:
        return quantizeQ8_0(src, bytes, count / kQK);
    case GgmlType::Q4_0:
        return quantizeQ4_0(src, bytes, count / kQK);
    case GgmlType::Q4_1:
        return quantizeQ4_1(src, bytes, count / kQK);
    case GgmlType::Q5_0:
        return quantizeQ5_0(src, bytes, count / kQK);
    case GgmlType::Q5_1:
        return quantizeQ5_1(src, bytes, count / kQK);
    case GgmlType::Q4_K:
        return quantizeQ4_K(src, bytes, count / kQKK);
    case GgmlType::Q5_K:
        return quantizeQ5_K(src, bytes, count / kQKK);
    case GgmlType::Q6_K:
        return quantizeQ6_K(src, bytes, count / kQKK);
    default:
        assert(false && "quantizeRow: type cannot be quantized (check canQuantize)");
        return;
    }
}

} // namespace hip::quant
