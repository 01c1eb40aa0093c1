#include "document/document_text.h"

#include <algorithm>

namespace hip::doc {
namespace {

bool isContinuationByte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Whether `next` continues the line of `current`: glyphs in text order that share most of their
// height and follow closely (a word space is well under one line height).
bool sameLineStretch(const NormalizedRect& current, const NormalizedRect& next) {
    const float overlap = std::min(current.bottom, next.bottom) - std::max(current.top, next.top);
    const float height = std::min(current.height(), next.height());
    if (overlap < 0.5f * height) return false;
    const float gap = next.left - current.right;
    return gap > -0.5f * height && gap < 1.5f * std::max(current.height(), next.height());
}

} // namespace

int DocumentText::pageAt(uint64_t byte) const {
    if (pages.empty()) return -1;
    const auto after = std::upper_bound(
        pages.begin(), pages.end(), byte,
        [](uint64_t value, const DocumentPage& page) { return value < page.textBegin; });
    return after == pages.begin() ? 0 : int(after - pages.begin()) - 1;
}

int DocumentText::pageOf(hip::TextRange range) const {
    return pageAt(range.end > range.begin ? range.end - 1 : range.begin);
}

hip::TextRange DocumentText::pageRange(int page) const {
    if (page < 0 || size_t(page) >= pages.size()) return {};
    const uint64_t end =
        size_t(page) + 1 < pages.size() ? pages[size_t(page) + 1].textBegin : text.size();
    return {pages[size_t(page)].textBegin, end};
}

QString DocumentText::pageName(int page) const {
    if (page < 0 || size_t(page) >= pages.size()) return {};
    const DocumentPage& p = pages[size_t(page)];
    const QString number = QString::number(page + 1);
    if (unit == PageUnit::Chapter)
        return p.title.isEmpty() ? QStringLiteral("chapter %1").arg(number)
                                 : QStringLiteral("chapter %1, %2").arg(number, p.title);
    if (p.label.isEmpty() || p.label == number) return QStringLiteral("page %1").arg(number);
    return QStringLiteral("page %1 (%2)").arg(p.label, number);
}

std::vector<PageArea> DocumentText::areasOf(hip::TextRange range) const {
    std::vector<PageArea> areas;
    auto glyph = std::lower_bound(glyphs.begin(), glyphs.end(), range.begin,
                                  [](const Glyph& g, uint64_t byte) { return g.byte < byte; });
    int page = -1;
    uint64_t pageEnd = 0;
    for (; glyph != glyphs.end() && glyph->byte < range.end; ++glyph) {
        if (glyph->box.isNull()) continue;
        if (page < 0 || glyph->byte >= pageEnd) {
            page = pageAt(glyph->byte);
            pageEnd = pageRange(page).end;
            areas.push_back({page, {}});
        }
        std::vector<NormalizedRect>& boxes = areas.back().boxes;
        if (!boxes.empty() && sameLineStretch(boxes.back(), glyph->box))
            boxes.back() = boxes.back().united(glyph->box);
        else
            boxes.push_back(glyph->box);
    }
    return areas;
}

QString DocumentText::textOf(hip::TextRange range) const {
    uint64_t begin = std::min<uint64_t>(range.begin, text.size());
    uint64_t end = std::clamp<uint64_t>(range.end, begin, text.size());
    while (begin > 0 && isContinuationByte(text[begin]))
        --begin;
    while (end < text.size() && isContinuationByte(text[end]))
        ++end;
    return QString::fromUtf8(text.data() + begin, qsizetype(end - begin));
}

QString DocumentText::quote(hip::TextRange range, int maxChars) const {
    QString simplified = textOf(range).simplified();
    if (simplified.size() <= maxChars) return simplified;
    qsizetype cut = simplified.lastIndexOf(QLatin1Char(' '), maxChars - 1);
    if (cut < maxChars / 2) cut = maxChars - 1; // one very long word: cut inside it
    return simplified.left(cut) + QChar(0x2026);
}

} // namespace hip::doc
