#include "document/document_builder.h"

#include <utility>

namespace hip::doc {

void DocumentBuilder::beginPage(DocumentPage page) {
    page.textBegin = document_.text.size();
    document_.pages.push_back(std::move(page));
}

void DocumentBuilder::appendGlyph(char32_t character, const NormalizedRect& box) {
    document_.glyphs.push_back({uint32_t(document_.text.size()), box});
    appendCodePoint(character);
}

void DocumentBuilder::appendText(QStringView text) {
    document_.text += text.toUtf8().toStdString();
}

void DocumentBuilder::appendText(std::string_view utf8) {
    document_.text += utf8;
}

DocumentText DocumentBuilder::take() {
    return std::exchange(document_, {});
}

void DocumentBuilder::appendCodePoint(char32_t c) {
    std::string& out = document_.text;
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

} // namespace hip::doc
