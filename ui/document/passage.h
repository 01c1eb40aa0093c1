#pragma once
// Where in a document something points: a stretch of text on one page, with its boxes, for
// citations and attention heat.

#include "document/normalized_rect.h"

#include <hip/session.h>

#include <QString>

#include <vector>

namespace hip::doc {

struct Passage {
    int page = -1;
    QString label;                     // the page's label
    hip::TextRange text;               // bytes of DocumentText::text
    std::vector<NormalizedRect> boxes; // on the page, one per stretch of a line; empty for EPUB
                                       // and text
    double weight = 0;                 // share of the attention on the document, 0..1
    QString quote;                     // the passage's text, shortened
};

// A page the model attended to: its share of the attention and its heaviest passages.
struct PageAttention {
    int page = -1;
    QString label;
    double weight = 0; // share of the attention on the document, 0..1
    std::vector<Passage> passages;
};

} // namespace hip::doc
