#include "document/text_pager.h"

#include <algorithm>

namespace hip::doc {
namespace {

// The last position in (from, to] just after one of `separators`, or -1. Searches only that
// window, so paging a text without breaks stays linear in its length.
qsizetype lastBreakAfter(QStringView text, qsizetype from, qsizetype to,
                         std::initializer_list<QStringView> separators) {
    qsizetype best = -1;
    for (QStringView separator : separators) {
        const qsizetype windowStart = std::max<qsizetype>(0, from + 1 - separator.size());
        const qsizetype at = text.sliced(windowStart, to - windowStart).lastIndexOf(separator);
        if (at >= 0) best = std::max(best, windowStart + at + separator.size());
    }
    return best;
}

} // namespace

std::vector<qsizetype> pageStarts(QStringView text, qsizetype pageCharacters) {
    pageCharacters = std::max<qsizetype>(pageCharacters, 100);
    std::vector<qsizetype> starts{0};
    qsizetype start = 0;
    while (text.size() - start > pageCharacters) {
        const qsizetype limit = start + pageCharacters;
        const qsizetype floor = start + pageCharacters / 2;
        qsizetype cut = lastBreakAfter(text, floor, limit, {u"\n\n"});
        if (cut < 0) cut = lastBreakAfter(text, floor, limit, {u". ", u"? ", u"! ", u".\n"});
        if (cut < 0) cut = lastBreakAfter(text, floor, limit, {u"\n"});
        if (cut < 0) cut = lastBreakAfter(text, start, limit, {u" "});
        if (cut < 0) {
            cut = limit;
            if (text[cut].isLowSurrogate()) --cut; // never split a character
        }
        // Blank lines stay with the page they end.
        while (cut < text.size() && text[cut] == QLatin1Char('\n'))
            ++cut;
        if (cut >= text.size()) break;
        starts.push_back(cut);
        start = cut;
    }
    return starts;
}

} // namespace hip::doc
