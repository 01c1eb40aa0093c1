#pragma once
// The text of PDF pages as Poppler sees it, in normalized coordinates and without Poppler types,
// so the layout analysis (reading order, running headers, paragraphs) works on plain data.

#include "document/normalized_rect.h"

#include <QString>

#include <vector>

namespace hip::doc {

struct LayoutWord {
    QString text;
    std::vector<NormalizedRect> charBoxes; // one per code point of `text`
    bool spaceAfter = false;
};

// A line as Poppler groups words: in one column, left to right.
struct LayoutLine {
    std::vector<LayoutWord> words;
    NormalizedRect box;

    QString text() const;
};

struct PageLayout {
    std::vector<LayoutLine> lines;
    double widthPoints = 0;
    double heightPoints = 0;
};

} // namespace hip::doc
