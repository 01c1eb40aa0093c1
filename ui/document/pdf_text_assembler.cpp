#include "document/pdf_text_assembler.h"

#include <QChar>
#include <QStringView>

#include <algorithm>

namespace hip::doc {
namespace {

float median(std::vector<float> values) {
    if (values.empty()) return 0;
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(values.size() / 2),
                     values.end());
    return values[values.size() / 2];
}

// `below` is the next line of the same column as `above`: lower and horizontally overlapping.
bool continuesColumn(const LayoutLine& above, const LayoutLine& below, float em) {
    return below.box.top > above.box.top + 0.5f * em && above.box.overlapsHorizontally(below.box);
}

std::vector<char32_t> codePoints(const QString& text) {
    std::vector<char32_t> result;
    result.reserve(size_t(text.size()));
    for (char32_t c : QStringView(text).toUcs4())
        result.push_back(c);
    return result;
}

char32_t firstCodePoint(const LayoutLine& line) {
    for (const LayoutWord& word : line.words)
        if (!word.text.isEmpty()) return QStringView(word.text).toUcs4().front();
    return 0;
}

// The line's last word ends a sentence: ". ", "?" or "!", maybe inside quotes or brackets.
bool endsSentence(const LayoutLine& line) {
    if (line.words.empty()) return false;
    const QString& word = line.words.back().text;
    for (qsizetype i = word.size() - 1; i >= 0; --i) {
        const QChar c = word[i];
        if (c == QLatin1Char('.') || c == QLatin1Char('!') || c == QLatin1Char('?')) return true;
        if (!(c == QLatin1Char('"') || c == QLatin1Char(')') || c == QChar(0x201D) ||
              c == QChar(0x2019)))
            return false;
    }
    return false;
}

// Whether `previous` stops short of its column's right edge `right` by more than the first word
// of `line` needs: that word would have fit, so the line was ended on purpose. This holds for
// ragged-right text as well as justified.
bool endsEarly(const LayoutLine& previous, float right, const LayoutLine& line, float em) {
    NormalizedRect word;
    if (!line.words.empty())
        for (const NormalizedRect& box : line.words.front().charBoxes)
            word = word.united(box);
    return right - previous.box.right > word.width() + 0.3f * em;
}

bool isHyphen(char32_t c) {
    return c == U'-' || c == 0x2010 || c == 0x2011 || c == 0xAD;
}
bool isDash(char32_t c) {
    return c == 0x2013 || c == 0x2014;
}

// Ligature glyphs spelled out: the model and search expect "office", not "o\uFB03ce".
std::u32string_view ligature(char32_t c) {
    switch (c) {
    case 0xFB00:
        return U"ff";
    case 0xFB01:
        return U"fi";
    case 0xFB02:
        return U"fl";
    case 0xFB03:
        return U"ffi";
    case 0xFB04:
        return U"ffl";
    case 0xFB05:
    case 0xFB06:
        return U"st";
    default:
        return {};
    }
}

} // namespace

PdfTextAssembler::Metrics PdfTextAssembler::measure(const std::vector<const LayoutLine*>& lines) {
    std::vector<float> heights, steps;
    for (const LayoutLine* line : lines)
        heights.push_back(line->box.height());
    Metrics metrics;
    metrics.em = median(heights);
    for (size_t i = 1; i < lines.size(); ++i) {
        const float step = lines[i]->box.top - lines[i - 1]->box.top;
        if (continuesColumn(*lines[i - 1], *lines[i], metrics.em) && step < 3 * metrics.em)
            steps.push_back(step);
    }
    // Paragraph gaps are the minority of steps, so the median is the plain line spacing.
    metrics.pitch = steps.empty() ? 1.2f * metrics.em : median(steps);
    return metrics;
}

// A paragraph starts after a larger gap than the line spacing, at an indented line, or after a
// line that ends early. Where a column or page changes only the last two can tell, and only
// when a neighbouring line shows the column's edges; a line alone in its column (a one-line
// page) falls back to punctuation: a sentence ends, a capital begins.
bool PdfTextAssembler::startsParagraph(const LayoutLine& line, const LayoutLine* next, bool newPage,
                                       const Metrics& metrics) const {
    const LayoutLine& previous = *previous_;
    const float em = std::max(metrics.em, previous.box.height());
    if (!newPage && continuesColumn(previous, line, em)) {
        const float step = line.box.top - previous.box.top;
        const float right =
            std::max(line.box.right, beforePrevious_ ? beforePrevious_->box.right : 0.0f);
        return step > 1.4f * metrics.pitch || line.box.left > previous.box.left + em ||
               endsEarly(previous, right, line, em);
    }
    if (next && continuesColumn(line, *next, em) && line.box.left > next->box.left + em)
        return true; // indented
    if (beforePrevious_) return endsEarly(previous, beforePrevious_->box.right, line, em);
    return endsSentence(previous) && QChar::isUpper(firstCodePoint(line));
}

void PdfTextAssembler::join(bool paragraph, const LayoutLine& line) {
    if (held_) {
        const HeldDash dash = *held_;
        held_.reset();
        const bool wordGoesOn = !paragraph && QChar::isLower(firstCodePoint(line));
        if (!(dash.droppable && wordGoesOn)) appendCharacter(dash.character, dash.box);
        if (paragraph) builder_.appendText(std::string_view("\n\n"));
        return;
    }
    builder_.appendText(std::string_view(paragraph ? "\n\n" : " "));
}

void PdfTextAssembler::addPage(DocumentPage page, const std::vector<const LayoutLine*>& lines) {
    const Metrics metrics = measure(lines);
    auto nextLine = [&](size_t i) -> const LayoutLine* {
        return i + 1 < lines.size() ? lines[i + 1] : nullptr;
    };
    // The join with the previous page belongs to that page, so its last glyphs stay with it;
    // pages without text in between start after it, empty.
    if (previous_ && !lines.empty()) {
        join(startsParagraph(*lines[0], nextLine(0), true, metrics), *lines[0]);
        std::vector<DocumentPage>& pages = builder_.document().pages;
        for (size_t p = previousPage_ + 1; p < pages.size(); ++p)
            pages[p].textBegin = builder_.size();
    }
    builder_.beginPage(std::move(page));
    if (!lines.empty()) previousPage_ = builder_.document().pages.size() - 1;
    for (size_t i = 0; i < lines.size(); ++i) {
        const LayoutLine& line = *lines[i];
        if (i > 0) {
            join(startsParagraph(line, nextLine(i), false, metrics), line);
            beforePrevious_ = continuesColumn(*previous_, line, metrics.em) ? previous_ : nullptr;
        } else {
            beforePrevious_ = nullptr;
        }
        appendLine(line);
        previous_ = &line;
    }
}

void PdfTextAssembler::finish() {
    if (held_) appendCharacter(held_->character, held_->box);
    held_.reset();
}

void PdfTextAssembler::appendLine(const LayoutLine& line) {
    for (size_t w = 0; w < line.words.size(); ++w) {
        const LayoutWord& word = line.words[w];
        const std::vector<char32_t> characters = codePoints(word.text);
        const bool lastWord = w + 1 == line.words.size();
        for (size_t c = 0; c < characters.size(); ++c) {
            const char32_t character = characters[c];
            const NormalizedRect box =
                c < word.charBoxes.size() ? word.charBoxes[c] : NormalizedRect{};
            const bool lineEnd = lastWord && c + 1 == characters.size();
            if (lineEnd && (isDash(character) ||
                            (isHyphen(character) && c > 0 && QChar::isLetter(characters[c - 1])))) {
                held_ = HeldDash{character, box, isHyphen(character)};
                continue;
            }
            if (character == 0xAD) continue; // a soft hyphen inside a line is invisible
            appendCharacter(character, box);
        }
        if (word.spaceAfter && !lastWord) builder_.appendText(std::string_view(" "));
    }
}

void PdfTextAssembler::appendCharacter(char32_t character, const NormalizedRect& box) {
    if (character < 0x20 || character == 0x7F) return; // control codes of broken font maps
    const std::u32string_view spelled = ligature(character);
    if (spelled.empty()) {
        builder_.appendGlyph(character, box);
        return;
    }
    const float width = box.width() / float(spelled.size());
    for (size_t i = 0; i < spelled.size(); ++i)
        builder_.appendGlyph(spelled[i], {box.left + width * float(i), box.top,
                                          box.left + width * float(i + 1), box.bottom});
}

} // namespace hip::doc
