#pragma once
// One page of a document: a PDF page, an EPUB chapter or a slice of a text file.

#include "document/normalized_rect.h"

#include <QString>

#include <cstdint>
#include <vector>

namespace hip::doc {

// Typesetting that repeats on every page (running headers and footers, page numbers): kept with
// its page for display, left out of the text the model reads, where it would interrupt sentences.
struct PageFurniture {
    enum class Kind { RunningHeader, RunningFooter, PageNumber };
    Kind kind = Kind::RunningHeader;
    QString text;
    NormalizedRect box;
};

struct DocumentPage {
    QString label; // what the page calls itself: "xii", "37"; the chapter number for EPUB
    QString title; // the chapter's title (EPUB, Markdown sections); empty for PDF pages
    // Size in points for fixed-layout pages (PDF); zero for reflowable ones (EPUB, text).
    double widthPoints = 0;
    double heightPoints = 0;
    // First byte of the page in DocumentText::text; the page runs to the next page's first byte.
    uint64_t textBegin = 0;
    std::vector<PageFurniture> furniture;
};

} // namespace hip::doc
