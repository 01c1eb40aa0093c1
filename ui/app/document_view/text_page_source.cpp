#include "document_view/text_page_source.h"

#include "document_view/glyph_geometry.h"

#include <QImage>
#include <QPainter>
#include <QTextLayout>

#include <cmath>

namespace hip::ui {
namespace {

// A book page: 6 x 8 inches with 3/4 inch margins, the text at 11 points with loose leading.
constexpr double kPageWidth = 432;
constexpr double kMinPageHeight = 576;
constexpr double kMargin = 54;
constexpr double kFontPoints = 11;
constexpr double kLeading = 1.35;

// A QImage at 72 dpi: laid out against it, one layout unit is one point, whatever the screen.
QImage& pointDevice() {
    thread_local QImage device = [] {
        QImage image(1, 1, QImage::Format_ARGB32_Premultiplied);
        const int dotsPerMeter = int(std::lround(72 / 0.0254));
        image.setDotsPerMeterX(dotsPerMeter);
        image.setDotsPerMeterY(dotsPerMeter);
        return image;
    }();
    return device;
}

// The page's text for layout, with the byte of the document text each UTF-16 unit came from.
struct PageText {
    QString text;
    std::vector<uint64_t> bytes; // one per UTF-16 unit, plus the end
};

PageText pageText(const doc::DocumentText& document, int page) {
    const hip::TextRange range = document.pageRange(page);
    PageText out;
    for (uint64_t byte = range.begin; byte < range.end;) {
        const auto lead = uint8_t(document.text[byte]);
        const uint64_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        const uint64_t end = std::min(range.end, byte + length);
        QString unit = QString::fromUtf8(document.text.data() + byte, qsizetype(end - byte));
        // Paragraph breaks become line separators: one layout holds the whole page.
        if (unit == QLatin1String("\n")) unit = QChar(QChar::LineSeparator);
        for (qsizetype i = 0; i < unit.size(); ++i)
            out.bytes.push_back(byte);
        out.text += unit;
        byte = end;
    }
    out.bytes.push_back(range.end);
    return out;
}

// Lays `text` out in the page's text column; returns the height it takes.
double layOut(QTextLayout& layout) {
    QTextOption option;
    option.setUseDesignMetrics(true);
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    layout.setTextOption(option);
    const double lineHeight = kFontPoints * kLeading;
    double y = 0;
    layout.beginLayout();
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
        line.setLineWidth(kPageWidth - 2 * kMargin);
        line.setPosition(QPointF(kMargin, kMargin + y));
        y += std::max(lineHeight, line.height());
    }
    layout.endLayout();
    return y;
}

} // namespace

TextPageSource::TextPageSource(std::shared_ptr<const doc::DocumentText> document)
    : PageSource(std::move(document)) {
    font_.setFamily(QStringLiteral("serif"));
    font_.setStyleHint(QFont::Serif);
    font_.setPointSizeF(kFontPoints);
    // Unhinted outlines scale exactly, so boxes computed once fit the picture at any zoom.
    font_.setHintingPreference(QFont::PreferNoHinting);
    pages_.reserve(this->document().pages.size());
    for (int page = 0; page < int(this->document().pages.size()); ++page)
        pages_.push_back(typeset(page));
}

TextPageSource::Page TextPageSource::typeset(int page) const {
    const PageText text = pageText(document(), page);
    QTextLayout layout(text.text, font_, &pointDevice());
    const double height = layOut(layout);
    Page out;
    out.size = QSizeF(kPageWidth, std::max(kMinPageHeight, height + 2 * kMargin));
    const double w = out.size.width();
    const double h = out.size.height();
    for (int i = 0; i < layout.lineCount(); ++i) {
        const QTextLine line = layout.lineAt(i);
        const int end = line.textStart() + line.textLength();
        for (int unit = line.textStart(); unit < end; ++unit) {
            const QChar c = text.text.at(unit);
            if (c.isLowSurrogate() || c.isSpace()) continue;
            const int next = c.isHighSurrogate() ? unit + 2 : unit + 1;
            const double left = line.cursorToX(unit);
            const double right = line.cursorToX(next);
            doc::Glyph glyph;
            glyph.byte = uint32_t(text.bytes[size_t(unit)]);
            glyph.box = {float(std::min(left, right) / w), float(line.y() / h),
                         float(std::max(left, right) / w), float((line.y() + line.height()) / h)};
            out.glyphs.push_back(glyph);
        }
    }
    return out;
}

int TextPageSource::pageCount() const {
    return int(pages_.size());
}

QSizeF TextPageSource::pageSize(int page) const {
    return pages_.at(size_t(page)).size;
}

QImage TextPageSource::render(int page, double pixelsPerPoint) const {
    const QSizeF size = pageSize(page) * pixelsPerPoint;
    QImage image(size.toSize(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    const PageText text = pageText(document(), page);
    QTextLayout layout(text.text, font_, &pointDevice());
    layOut(layout);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    painter.scale(pixelsPerPoint, pixelsPerPoint);
    painter.setPen(Qt::black);
    layout.draw(&painter, QPointF(0, 0));
    return image;
}

std::vector<doc::NormalizedRect> TextPageSource::boxes(int page, hip::TextRange range) const {
    return lineBoxes(pages_.at(size_t(page)).glyphs, range);
}

std::optional<uint64_t> TextPageSource::byteAt(int page, QPointF point) const {
    return byteNear(pages_.at(size_t(page)).glyphs, point, document().pageRange(page).end);
}

} // namespace hip::ui
