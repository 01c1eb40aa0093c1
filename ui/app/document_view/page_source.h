#pragma once
// The pages of an open document as the view shows them: their sizes, their pictures and where each
// character of the document text sits on them. PDF pages come from Poppler with the boxes the
// document reader found; reflowable documents (EPUB, text, Markdown) are typeset here, so search
// hits, selection, citations and heat work the same on both.
//
// Geometry is in points (1/72 inch) for sizes and normalized [0,1] page coordinates for boxes
// (Okular's convention), so overlays survive zoom and device pixel ratio changes.

#include "document/document_text.h"
#include "document/normalized_rect.h"

#include <QImage>
#include <QPointF>
#include <QSizeF>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace hip::ui {

class PageSource {
public:
    virtual ~PageSource() = default;

    virtual int pageCount() const = 0;
    virtual QSizeF pageSize(int page) const = 0; // in points
    // The page's picture at `pixelsPerPoint`. Called on a render thread: implementations are
    // safe to call from several threads at once.
    virtual QImage render(int page, double pixelsPerPoint) const = 0;
    // Boxes of the characters of `range` that lie on `page`, merged along lines.
    virtual std::vector<doc::NormalizedRect> boxes(int page, hip::TextRange range) const = 0;
    // The byte of the character nearest to `point` (normalized) on `page`, for selection; nullopt
    // on a page without text.
    virtual std::optional<uint64_t> byteAt(int page, QPointF point) const = 0;

    const doc::DocumentText& document() const { return *document_; }

protected:
    explicit PageSource(std::shared_ptr<const doc::DocumentText> document)
        : document_(std::move(document)) {}

private:
    std::shared_ptr<const doc::DocumentText> document_;
};

} // namespace hip::ui
