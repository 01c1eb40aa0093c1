#include "document/pdf_furniture.h"

#include <QHash>
#include <QRegularExpression>

#include <algorithm>
#include <set>

namespace hip::doc {
namespace {

// Running heads and folios sit in the outer eighth of the page; body text rarely does.
constexpr float kEdgeBand = 0.12f;
// How far the same running head may move between pages (rounding, odd/even layouts).
constexpr float kSameHeight = 0.015f;

enum class Edge { Top, Bottom };

struct Occurrence {
    int page = 0;
    int line = 0;
    float y = 0;
    int number = -1; // the number beside the text, -1 when none
};

bool isPageNumber(const QString& text, const QString& label) {
    static const QRegularExpression patterns[] = {
        // "12", "- 12 -", "[12]"
        QRegularExpression(
            QStringLiteral(R"(^[-\x{2013}\x{2014}(\[]?\s*\d{1,5}\s*[-\x{2013}\x{2014})\]]?$)")),
        // "Page 12", "p. 12", "Page 12 of 300"
        QRegularExpression(
            QStringLiteral(
                R"(^(page|p\.|pg\.?|seite|p\x{e1}gina|pagina)\s*\d{1,5}(\s*(of|/|von|de|di)\s*\d{1,5})?$)"),
            QRegularExpression::CaseInsensitiveOption),
        // "12 / 300", "12 of 300"
        QRegularExpression(QStringLiteral(R"(^\d{1,5}\s*(/|of)\s*\d{1,5}$)"),
                           QRegularExpression::CaseInsensitiveOption),
        // front matter: "xii" (a well-formed roman numeral below 400)
        QRegularExpression(QStringLiteral(R"(^(?=.)c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$)"),
                           QRegularExpression::CaseInsensitiveOption),
    };
    if (!label.isEmpty() && text.compare(label, Qt::CaseInsensitive) == 0) return true;
    return std::any_of(std::begin(patterns), std::end(patterns),
                       [&](const QRegularExpression& p) { return p.match(text).hasMatch(); });
}

// Splits "The Title 37" or "37 The Title" into the text and the number; the number is what
// changes from page to page of a running head.
std::pair<QString, int> splitNumber(const QString& text) {
    static const QRegularExpression trailing(QStringLiteral(R"(^(.*\D)\s+(\d{1,5})$)"));
    static const QRegularExpression leading(QStringLiteral(R"(^(\d{1,5})\s+(\D.*)$)"));
    if (auto m = trailing.match(text); m.hasMatch()) return {m.captured(1), m.captured(2).toInt()};
    if (auto m = leading.match(text); m.hasMatch()) return {m.captured(2), m.captured(1).toInt()};
    return {text, -1};
}

// The occurrences at one height that repeat on the most pages (a sliding window over heights).
std::vector<Occurrence> largestCluster(std::vector<Occurrence> occurrences) {
    std::sort(occurrences.begin(), occurrences.end(),
              [](const Occurrence& a, const Occurrence& b) { return a.y < b.y; });
    QHash<int, int> perPage; // occurrences in the window per page
    size_t bestBegin = 0, bestEnd = 0;
    qsizetype bestPages = 0;
    for (size_t begin = 0, end = 0; end < occurrences.size(); ++end) {
        ++perPage[occurrences[end].page];
        while (occurrences[end].y - occurrences[begin].y > kSameHeight) {
            const int page = occurrences[begin++].page;
            if (--perPage[page] == 0) perPage.remove(page);
        }
        if (perPage.size() > bestPages) {
            bestPages = perPage.size();
            bestBegin = begin;
            bestEnd = end + 1;
        }
    }
    return {occurrences.begin() + std::ptrdiff_t(bestBegin),
            occurrences.begin() + std::ptrdiff_t(bestEnd)};
}

// A running head repeats its text; a number beside it is either always the same (a chapter
// number) or counts the pages (a folio). Chapter openings ("Chapter 1", "Chapter 2"...) at the
// same height have numbers that do neither, and stay body text.
bool isRunningHead(const std::vector<Occurrence>& cluster) {
    std::set<int> numbers;
    QHash<int, int> offsets; // number - page index -> count
    for (const Occurrence& o : cluster) {
        numbers.insert(o.number);
        if (o.number >= 0) ++offsets[o.number - o.page];
    }
    if (numbers.size() == 1) return true;
    int bestOffset = 0;
    for (int count : offsets)
        bestOffset = std::max(bestOffset, count);
    return bestOffset * 5 >= int(cluster.size()) * 4;
}

} // namespace

FurnitureMarks detectFurniture(const std::vector<PageLayout>& pages, const QStringList& labels) {
    FurnitureMarks marks(pages.size());
    // Repetition needs a few pages to be told from coincidence.
    const size_t minPages = pages.size() >= 6 ? 3 : 2;
    QHash<QPair<QString, int>, std::vector<Occurrence>> candidates;

    for (size_t p = 0; p < pages.size(); ++p) {
        const std::vector<LayoutLine>& lines = pages[p].lines;
        marks[p].resize(lines.size());
        for (size_t i = 0; i < lines.size(); ++i) {
            const float y = 0.5f * (lines[i].box.top + lines[i].box.bottom);
            if (y > kEdgeBand && y < 1 - kEdgeBand) continue;
            const Edge edge = y <= kEdgeBand ? Edge::Top : Edge::Bottom;
            const QString text = lines[i].text().simplified();
            if (text.isEmpty()) continue;
            if (isPageNumber(text, p < size_t(labels.size()) ? labels[qsizetype(p)] : QString())) {
                marks[p][i] = PageFurniture::Kind::PageNumber;
                continue;
            }
            const auto [core, number] = splitNumber(text);
            candidates[{core.toLower(), int(edge)}].push_back({int(p), int(i), y, number});
        }
    }

    for (auto it = candidates.cbegin(); it != candidates.cend(); ++it) {
        const std::vector<Occurrence> cluster = largestCluster(it.value());
        std::set<int> pagesSeen;
        for (const Occurrence& o : cluster)
            pagesSeen.insert(o.page);
        if (pagesSeen.size() < minPages || !isRunningHead(cluster)) continue;
        const auto kind = it.key().second == int(Edge::Top) ? PageFurniture::Kind::RunningHeader
                                                            : PageFurniture::Kind::RunningFooter;
        for (const Occurrence& o : cluster)
            marks[size_t(o.page)][size_t(o.line)] = kind;
    }
    return marks;
}

} // namespace hip::doc
