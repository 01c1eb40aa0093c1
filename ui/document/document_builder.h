#pragma once
// Appends pages, characters and their boxes to a DocumentText: what every backend does, in one
// place, so the UTF-8 offsets of glyphs and pages are always consistent.

#include "document/document_text.h"

#include <QStringView>

namespace hip::doc {

class DocumentBuilder {
public:
    // The page starts at the current end of the text.
    void beginPage(DocumentPage page);
    // A character with its box on the current page.
    void appendGlyph(char32_t character, const NormalizedRect& box);
    // Text without a place on a page: reflowable content, or separators the reader inserts.
    void appendText(QStringView text);
    void appendText(std::string_view utf8);

    uint64_t size() const { return document_.text.size(); }
    bool isEmpty() const { return document_.text.empty(); }

    DocumentText& document() { return document_; }
    DocumentText take();

private:
    void appendCodePoint(char32_t character);
    DocumentText document_;
};

} // namespace hip::doc
