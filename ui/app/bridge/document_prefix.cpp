#include "bridge/document_prefix.h"

#include <algorithm>

namespace hip::ui {

doc::DocumentText firstPages(const doc::DocumentText& document, int pageCount) {
    pageCount = std::clamp(pageCount, 0, int(document.pages.size()));
    doc::DocumentText prefix;
    prefix.title = document.title;
    prefix.format = document.format;
    prefix.unit = document.unit;
    prefix.warnings = document.warnings;
    if (pageCount == 0) return prefix;
    const uint64_t end = document.pageRange(pageCount - 1).end;
    prefix.text = document.text.substr(0, end);
    prefix.pages.assign(document.pages.begin(), document.pages.begin() + pageCount);
    const auto glyphEnd =
        std::lower_bound(document.glyphs.begin(), document.glyphs.end(), end,
                         [](const doc::Glyph& g, uint64_t byte) { return g.byte < byte; });
    prefix.glyphs.assign(document.glyphs.begin(), glyphEnd);
    for (const doc::OutlineEntry& entry : document.outline)
        if (entry.page < pageCount) prefix.outline.push_back(entry);
    return prefix;
}

} // namespace hip::ui
