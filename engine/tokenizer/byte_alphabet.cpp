#include "tokenizer/byte_alphabet.h"

#include <array>

namespace hip::tok {
namespace {

bool standsForItself(unsigned byte) {
    return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
}

std::array<char32_t, 256> makeByteToAlphabet() {
    std::array<char32_t, 256> table{};
    char32_t next = 0x100;
    for (unsigned byte = 0; byte < 256; ++byte)
        table[byte] = standsForItself(byte) ? byte : next++;
    return table;
}

const std::array<char32_t, 256>& byteToAlphabetTable() {
    static const std::array<char32_t, 256> table = makeByteToAlphabet();
    return table;
}

} // namespace

char32_t byteToAlphabet(uint8_t byte) {
    return byteToAlphabetTable()[byte];
}

std::optional<uint8_t> alphabetToByte(char32_t cp) {
    if (cp < 0x100) {
        if (standsForItself(cp)) return static_cast<uint8_t>(cp);
        return std::nullopt;
    }
    if (cp >= 0x100 + 68) return std::nullopt;
    const auto& table = byteToAlphabetTable();
    for (unsigned byte = 0; byte < 256; ++byte)
        if (table[byte] == cp) return static_cast<uint8_t>(byte);
    return std::nullopt;
}

} // namespace hip::tok
