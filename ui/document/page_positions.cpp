#include "document/page_positions.h"

namespace hip::doc {

std::vector<int64_t> pageStartPositions(const DocumentText& document,
                                        const DocumentTokens& tokens) {
    std::vector<int64_t> starts(document.pages.size(), tokens.endPosition());
    if (starts.empty()) return starts;
    // One walk over tokens and pages together: both ascend through the text.
    size_t page = 0;
    starts[0] = tokens.firstPosition();
    for (int64_t position = tokens.firstPosition(); position < tokens.endPosition(); ++position) {
        const hip::TextRange range = tokens.rangeAt(position);
        const uint64_t byte = range.end > range.begin ? range.end - 1 : range.begin;
        while (page + 1 < starts.size() && byte >= document.pages[page + 1].textBegin)
            starts[++page] = position;
    }
    return starts;
}

} // namespace hip::doc
