#include "tokenizer/utf8.h"

namespace hip::tok::utf8 {
namespace {

// Well-formed byte sequences (Unicode table 3-7): the lead byte fixes the length and the
// allowed range of the second byte; later bytes are always 0x80..0xBF.
struct LeadRule {
    uint8_t length;
    uint8_t secondLow;
    uint8_t secondHigh;
};

LeadRule ruleFor(uint8_t lead) {
    if (lead < 0x80) return {1, 0, 0};
    if (lead < 0xC2) return {0, 0, 0};
    if (lead < 0xE0) return {2, 0x80, 0xBF};
    if (lead == 0xE0) return {3, 0xA0, 0xBF};
    if (lead == 0xED) return {3, 0x80, 0x9F};
    if (lead < 0xF0) return {3, 0x80, 0xBF};
    if (lead == 0xF0) return {4, 0x90, 0xBF};
    if (lead < 0xF4) return {4, 0x80, 0xBF};
    if (lead == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

} // namespace

Sequence examine(std::string_view text, size_t pos) {
    const auto lead = static_cast<uint8_t>(text[pos]);
    const LeadRule rule = ruleFor(lead);
    if (rule.length == 0) return {SequenceState::Invalid, 1, 0};
    if (rule.length == 1) return {SequenceState::Complete, 1, lead};

    char32_t cp = lead & (0xFFu >> (rule.length + 1));
    for (uint32_t i = 1; i < rule.length; ++i) {
        if (pos + i >= text.size()) return {SequenceState::Incomplete, i, 0};
        const auto byte = static_cast<uint8_t>(text[pos + i]);
        const uint8_t low = i == 1 ? rule.secondLow : 0x80;
        const uint8_t high = i == 1 ? rule.secondHigh : 0xBF;
        if (byte < low || byte > high) return {SequenceState::Invalid, i, 0};
        cp = (cp << 6) | (byte & 0x3Fu);
    }
    return {SequenceState::Complete, rule.length, cp};
}

void appendCodepoint(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

} // namespace hip::tok::utf8
