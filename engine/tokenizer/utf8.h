#pragma once
// UTF-8 scanning shared by the tokenizers and the streaming decoder. Invalid input is never an
// error here: callers decide whether to pass bad bytes through or replace them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hip::tok::utf8 {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD"; // U+FFFD

enum class SequenceState {
    Complete,   // a whole valid sequence
    Incomplete, // a valid start that the text ends before completing
    Invalid,    // not UTF-8; `length` bytes (at least 1) form its maximal invalid subpart
};

struct Sequence {
    SequenceState state = SequenceState::Invalid;
    uint32_t length = 1;    // bytes that belong to this sequence (or to its invalid subpart)
    char32_t codepoint = 0; // only for Complete
};

// Examines the sequence starting at text[pos] (pos < text.size()), following the Unicode
// "maximal subpart" rule for where an invalid sequence ends.
Sequence examine(std::string_view text, size_t pos);

void appendCodepoint(std::string& out, char32_t cp);

} // namespace hip::tok::utf8
