#pragma once
// GPT-2's byte-level alphabet: every byte is written as one printable code point so that BPE
// vocabularies can be plain text. Printable Latin-1 bytes stand for themselves; the other 68
// (controls, space, 0x7F-0xA0, soft hyphen) become U+0100 + n in increasing byte order.

#include <cstdint>
#include <optional>

namespace hip::tok {

char32_t byteToAlphabet(uint8_t byte);
std::optional<uint8_t> alphabetToByte(char32_t cp);

} // namespace hip::tok
