#pragma once
// The ggml tensor types that can appear in a GGUF file, with their block geometry.
// Values and sizes follow ggml's ggml_type enum and block structs (ggml-common.h).

#include <cstdint>
#include <optional>
#include <string_view>

namespace hip::quant {

enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
};

struct TypeTraits {
    GgmlType type;
    std::string_view name;
    int64_t blockSize;  // elements per block
    int64_t blockBytes; // bytes per block
    bool dequantizable; // this engine can turn it into floats
};

// nullopt for a value that is not a known ggml type (removed or future types).
std::optional<TypeTraits> typeTraits(uint32_t rawType);
const TypeTraits& traits(GgmlType type);
std::string_view typeName(GgmlType type);

// Bytes taken by `elements` consecutive elements; nullopt when `elements` is not a whole number of
// blocks or the size overflows.
std::optional<uint64_t> rowBytes(GgmlType type, int64_t elements);

} // namespace hip::quant
