#pragma once
// Pages of reflowable documents (EPUB chapters, slices of text and Markdown files), typeset here
// as book pages of a fixed width. The layout is computed once, at open, and kept as character
// boxes; rendering lays the page out again (identically) on the render thread.

#include "document_view/page_source.h"

#include <QFont>

namespace hip::ui {

class TextPageSource final : public PageSource {
public:
    explicit TextPageSource(std::shared_ptr<const doc::DocumentText> document);

    int pageCount() const override;
    QSizeF pageSize(int page) const override;
    QImage render(int page, double pixelsPerPoint) const override;
    std::vector<doc::NormalizedRect> boxes(int page, hip::TextRange range) const override;
    std::optional<uint64_t> byteAt(int page, QPointF point) const override;

private:
    struct Page {
        QSizeF size;
        std::vector<doc::Glyph> glyphs;
    };
    Page typeset(int page) const;

    QFont font_;
    std::vector<Page> pages_;
};

} // namespace hip::ui
