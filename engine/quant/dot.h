#pragma once
// Dot products of a quantized weight row with fp32 activations, for the CPU backend's decode
// products: the row is never written out dequantized. Where the CPU has AVX2 and FMA, every
// format runs a hand-vectorized kernel; other CPUs (and float rows whose length is not a multiple
// of 8) dequantize a few blocks at a time into a small buffer. Results equal the dot product of the
// dequantized row up to fp32 summation order.

#include "quant/ggml_type.h"

#include <cstdint>

namespace hip::quant {

// sum over i < cols of dequantized(row)[i] * x[i]; `cols` a multiple of the type's block size and
// the type dequantizable (as for dequantizeRow).
float dotRow(GgmlType type, const void* row, const float* x, int64_t cols);

// The same without SIMD kernels: what CPUs without AVX2 run, and the tests' second opinion.
float dotRowPortable(GgmlType type, const void* row, const float* x, int64_t cols);

} // namespace hip::quant
