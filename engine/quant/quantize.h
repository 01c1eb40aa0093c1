#pragma once
// CPU reference quantization of float rows into ggml block formats: used to write test models with
// random weights and to quantize activations.
//
// F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 produce the same bytes as ggml's reference
// quantizers and gguf-py's, which the tests compare against (F16 NaNs, which implementations treat
// differently, come out quiet with their top payload bits). Q4_K, Q5_K and Q6_K use this
// engine's own least-squares quantizer (see quantize.cpp): valid blocks that any ggml reader
// decodes, with small error, but not the bytes llama.cpp's quantizer would choose.

#include "quant/ggml_type.h"

#include <cstdint>

namespace hip::quant {

// Whether quantizeRow can produce `type`.
bool canQuantize(GgmlType type);

// Encodes `count` floats from `src` into `dst` (rowBytes(type, count) bytes). `count` must be a
// multiple of the type's block size and canQuantize(type) must hold; both are the caller's
// responsibility. Inputs must be finite and, for the block formats, small enough that the block
// scales fit in fp16 (|x| below about 5e5); other inputs give unspecified but valid blocks.
void quantizeRow(GgmlType type, const float* src, void* dst, int64_t count);

} // namespace hip::quant
