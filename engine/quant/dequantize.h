#pragma once
// CPU reference dequantization of every block format the engine supports.

#include "quant/ggml_type.h"

#include <cstdint>

namespace hip::quant {

// Writes `count` floats decoded from `src` to `dst`. `count` must be a multiple of the type's block
// size and the type must be dequantizable (traits(type).dequantizable); both are the caller's
// responsibility (the GGUF reader validates tensors before use).
void dequantizeRow(GgmlType type, const void* src, float* dst, int64_t count);

// IEEE half and bfloat16 conversions, exact in both directions (round to nearest even).
float halfToFloat(uint16_t h);
// An fp16 value stored at p (block scales: any alignment).
float halfAt(const uint8_t* p);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

} // namespace hip::quant
