#include "tokenizer/special_token_matcher.h"

#include <algorithm>

namespace hip::tok {

void SpecialTokenMatcher::add(std::string_view text, TokenId id) {
    if (text.empty()) return;
    auto& entries = byFirstByte_[static_cast<uint8_t>(text[0])];
    const auto position = std::find_if(entries.begin(), entries.end(), [&](const Entry& entry) {
        return entry.text.size() < text.size();
    });
    entries.insert(position, Entry{text, id});
}

std::optional<SpecialTokenMatcher::Match> SpecialTokenMatcher::findNext(std::string_view text,
                                                                        size_t from) const {
    for (size_t pos = from; pos < text.size(); ++pos) {
        for (const Entry& entry : byFirstByte_[static_cast<uint8_t>(text[pos])])
            if (text.compare(pos, entry.text.size(), entry.text) == 0)
                return Match{pos, pos + entry.text.size(), entry.id};
    }
    return std::nullopt;
}

} // namespace hip::tok
