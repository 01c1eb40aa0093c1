#pragma once
// Integer dot products for the CPU backend's decode products: the activation row is quantized once
// per product to 8 bits per 32-element block (a float scale per block), and each weight row meets
// it in integers (AVX2 byte products, summed per block in 32 bits), scaled once per block. This is
// several times fewer instructions per weight than converting the weights to fp32; the cost is
// the activations' rounding, a relative error of about 0.4% per element (the tests bound it).
// Only for CPUs with AVX2 and the formats listed by hasQ8Dot.

#include "quant/ggml_type.h"

#include <cstdint>
#include <vector>

namespace hip::quant {

constexpr int64_t kQ8Block = 32;

// One activation row: per 32-element block, x[i] ~ scale * quants[i], with scale times the sum of
// its quants (the formats whose weights carry an offset multiply it).
struct Q8Activations {
    std::vector<float> scales;
    std::vector<float> sums;
    std::vector<int8_t> quants;
};

// Whether dotRowQ8 can take weight rows of `type` on this CPU.
bool hasQ8Dot(GgmlType type);

// Rounds x[0..cols) (cols a multiple of 32) to the nearest of 255 levels per block, symmetric
// around zero, scaled by the block's largest magnitude.
void quantizeActivations(const float* x, int64_t cols, Q8Activations& out);

// sum over i < cols of dequantized(row)[i] * (scale * quant)[i]; hasQ8Dot(type) must hold and
// cols be a multiple of the type's block size and of 32.
float dotRowQ8(GgmlType type, const void* row, const Q8Activations& x, int64_t cols);

} // namespace hip::quant
