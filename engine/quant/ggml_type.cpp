#include "quant/ggml_type.h"

#include <array>
#include <cassert>
#include <limits>

namespace hip::quant {
namespace {

// Block geometry from ggml-common.h (QK_K = 256). Ordered by enum value.
constexpr std::array kTypeTable = {
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

} // namespace

std::optional<TypeTraits> typeTraits(uint32_t rawType) {
    for (const TypeTraits& entry : kTypeTable)
        if (static_cast<uint32_t>(entry.type) == rawType) return entry;
    return std::nullopt;
}

const TypeTraits& traits(GgmlType type) {
    for (const TypeTraits& entry : kTypeTable)
        if (entry.type == type) return entry;
    // Every enumerator is in the table; only a value cast from an unchecked integer lands here.
    // Zero bytes per block makes rowBytes() refuse it.
    assert(false && "traits() called with a value that is not a GgmlType");
    static constexpr TypeTraits kUnknown{GgmlType::F32, "unknown", 1, 0, false};
    return kUnknown;
}

std::string_view typeName(GgmlType type) {
    return traits(type).name;
}

std::optional<uint64_t> rowBytes(GgmlType type, int64_t elements) {
    const TypeTraits& t = traits(type);
    if (t.blockBytes == 0 || elements < 0 || elements % t.blockSize != 0) return std::nullopt;
    const auto blocks = static_cast<uint64_t>(elements / t.blockSize);
    const auto blockBytes = static_cast<uint64_t>(t.blockBytes);
    if (blocks > std::numeric_limits<uint64_t>::max() / blockBytes) return std::nullopt;
    return blocks * blockBytes;
}

} // namespace hip::quant
