#pragma once
// The ggml tensor types that can appear in a GGUF file, with their block geometry.
// Values and sizes follow ggml's ggml_type enum and block structs (ggml-common.h).

#include <array>
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

// Block geometry from ggml-common.h (QK_K = 256). Ordered by enum value.
inline constexpr std::array kTypeTable = {
    TypeTraits{GgmlType::F32, "F32", 1, 4, true},
    TypeTraits{GgmlType::F16, "F16", 1, 2, true},
    TypeTraits{GgmlType::Q4_0, "Q4_0", 32, 18, true},
    TypeTraits{GgmlType::Q4_1, "Q4_1", 32, 20, true},
    TypeTraits{GgmlType::Q5_0, "Q5_0", 32, 22, true},
    TypeTraits{GgmlType::Q5_1, "Q5_1", 32, 24, true},
    TypeTraits{GgmlType::Q8_0, "Q8_0", 32, 34, true},
    TypeTraits{GgmlType::Q8_1, "Q8_1", 32, 36, false},
    TypeTraits{GgmlType::Q2_K, "Q2_K", 256, 84, false},
    TypeTraits{GgmlType::Q3_K, "Q3_K", 256, 110, false},
    TypeTraits{GgmlType::Q4_K, "Q4_K", 256, 144, true},
    TypeTraits{GgmlType::Q5_K, "Q5_K", 256, 176, true},
    TypeTraits{GgmlType::Q6_K, "Q6_K", 256, 210, true},
    TypeTraits{GgmlType::Q8_K, "Q8_K", 256, 292, false},
    TypeTraits{GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66, false},
    TypeTraits{GgmlType::IQ2_XS, "IQ2_XS", 256, 74, false},
    TypeTraits{GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98, false},
    TypeTraits{GgmlType::IQ1_S, "IQ1_S", 256, 50, false},
    TypeTraits{GgmlType::IQ4_NL, "IQ4_NL", 32, 18, false},
    TypeTraits{GgmlType::IQ3_S, "IQ3_S", 256, 110, false},
    TypeTraits{GgmlType::IQ2_S, "IQ2_S", 256, 82, false},
    TypeTraits{GgmlType::IQ4_XS, "IQ4_XS", 256, 136, false},
    TypeTraits{GgmlType::I8, "I8", 1, 1, false},
    TypeTraits{GgmlType::I16, "I16", 1, 2, false},
    TypeTraits{GgmlType::I32, "I32", 1, 4, false},
    TypeTraits{GgmlType::I64, "I64", 1, 8, false},
    TypeTraits{GgmlType::F64, "F64", 1, 8, false},
    TypeTraits{GgmlType::IQ1_M, "IQ1_M", 256, 56, false},
    TypeTraits{GgmlType::BF16, "BF16", 1, 2, true},
    TypeTraits{GgmlType::TQ1_0, "TQ1_0", 256, 54, false},
    TypeTraits{GgmlType::TQ2_0, "TQ2_0", 256, 66, false},
    TypeTraits{GgmlType::MXFP4, "MXFP4", 32, 17, false},
};

// Bytes per block of `type` (0 for a value that is not in the table), at compile time: the CPU
// and GPU kernels take their block strides from here.
constexpr int64_t blockBytes(GgmlType type) {
    for (const TypeTraits& entry : kTypeTable)
        if (entry.type == type) return entry.blockBytes;
    return 0;
}
template <GgmlType type> inline constexpr int64_t kBlockBytes = blockBytes(type);

// The block layouts the kernels read (ggml-common.h): scales (and minimums) first, then quants.
static_assert(kBlockBytes<GgmlType::Q4_0> == 2 + 16);
static_assert(kBlockBytes<GgmlType::Q4_1> == 2 + 2 + 16);
static_assert(kBlockBytes<GgmlType::Q5_0> == 2 + 4 + 16);
static_assert(kBlockBytes<GgmlType::Q5_1> == 2 + 2 + 4 + 16);
static_assert(kBlockBytes<GgmlType::Q8_0> == 2 + 32);
static_assert(kBlockBytes<GgmlType::Q4_K> == 2 + 2 + 12 + 128);
static_assert(kBlockBytes<GgmlType::Q5_K> == 2 + 2 + 12 + 32 + 128);
static_assert(kBlockBytes<GgmlType::Q6_K> == 128 + 64 + 16 + 2);

// nullopt for a value that is not a known ggml type (removed or future types).
std::optional<TypeTraits> typeTraits(uint32_t rawType);
const TypeTraits& traits(GgmlType type);
std::string_view typeName(GgmlType type);

// Bytes taken by `elements` consecutive elements; nullopt when `elements` is not a whole number of
// blocks or the size overflows.
std::optional<uint64_t> rowBytes(GgmlType type, int64_t elements);

} // namespace hip::quant
