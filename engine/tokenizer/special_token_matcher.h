#pragma once
// Finds the literal text of special tokens inside raw text, so that the front end can cut the
// text there before the model's tokenizer runs.

#include "tokenizer/tokenizer.h"

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace hip::tok {

class SpecialTokenMatcher {
public:
    // `text` must outlive the matcher (it views the tokenizer's vocabulary). Empty texts are
    // ignored.
    void add(std::string_view text, TokenId id);

    struct Match {
        size_t begin = 0;
        size_t end = 0;
        TokenId id = -1;
    };
    // The leftmost match at or after `from`, the longest token where several start there (the
    // matching rule of Hugging Face's added-token splitter).
    std::optional<Match> findNext(std::string_view text, size_t from) const;

private:
    struct Entry {
        std::string_view text;
        TokenId id;
    };
    std::array<std::vector<Entry>, 256> byFirstByte_; // each sorted longest first
};

} // namespace hip::tok
