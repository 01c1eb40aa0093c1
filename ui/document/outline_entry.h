#pragma once
// One entry of a document's table of contents, flattened with its depth.

#include <QString>

#include <cstdint>

namespace hip::doc {

struct OutlineEntry {
    QString title;
    int level = 0; // 0 for top-level entries
    int page = -1; // page index, -1 when the entry points nowhere in this document
    // Where on the page it points, as a normalized y (PDF destinations), or -1 when unknown.
    double top = -1;
    // Byte in DocumentText::text it points to when the format says precisely (EPUB anchors,
    // Markdown headings), otherwise -1.
    int64_t textOffset = -1;
};

} // namespace hip::doc
