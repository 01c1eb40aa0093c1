#include "quant/ggml_type.h"

#include <array>
#include <cassert>
#include <limits>

namespace hip::quant {

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
