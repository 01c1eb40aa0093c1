#pragma once
// Pieces shared by the AVX2 dot kernels of dot.cpp (fp32 activations) and dot_q8.cpp (int8
// activations): the CPU check, block scales, lane sums and the assembly of Q6_K quants. Defines
// HIP_QUANT_AVX2 where the compiler can build them.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HIP_QUANT_AVX2 1
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define HIP_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace hip::quant::avx2 {

inline bool supported() {
    // Clang before 16 cannot ask for F16C; every x86 CPU with AVX2 has it.
#if defined(__clang__) && __clang_major__ < 16
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            __builtin_cpu_supports("f16c");
#endif
    return yes;
}

// The fp16 block scale at p, converted by F16C: exact, as halfAt, but inline (a call per block
// made the kernels spill their accumulators and cost a quarter of decode time).
HIP_AVX2 inline float scaleAt(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

HIP_AVX2 inline float horizontalSum(__m256 v) {
    const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 two = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
    return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

// Half `half` (128 elements) of a Q6_K super-block (ql[128], qh[64], scales[16], d), its quants
// 0..63 (the +32 bias still in) in element order, 32 per vector. Quarter r takes its low four
// bits from ql (r = 0, 1: low nibbles of ql[0..31], ql[32..63]; r = 2, 3: their high nibbles)
// and its top two from bits 2r, 2r + 1 of qh[0..31].
struct Q6Quarters {
    __m256i q[4];
};
HIP_AVX2 inline Q6Quarters q6kQuarters(const uint8_t* src, int half) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), top2 = _mm256_set1_epi8(0x30);
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 64 * half));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 64 * half + 32));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 128 + 32 * half));
    return {{_mm256_or_si256(_mm256_and_si256(a, low4),
                             _mm256_and_si256(_mm256_slli_epi16(h, 4), top2)),
             _mm256_or_si256(_mm256_and_si256(c, low4),
                             _mm256_and_si256(_mm256_slli_epi16(h, 2), top2)),
             _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4),
                             _mm256_and_si256(h, top2)),
             _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4),
                             _mm256_and_si256(_mm256_srli_epi16(h, 2), top2))}};
}

} // namespace hip::quant::avx2
#endif
