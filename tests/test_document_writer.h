#pragma once
// Writes PDFs for the document tests with QPdfWriter: text at known places on known pages, in
// points from the top-left corner of an A4 page (595 x 842).

#include <QFontMetricsF>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QString>
#include <QStringList>

#include <memory>

namespace hiptest {

class TestPdfWriter {
public:
    static constexpr qreal kPageWidth = 595;
    static constexpr qreal kPageHeight = 842;

    explicit TestPdfWriter(const QString& path, qreal pointSize = 11) : writer_(path) {
        writer_.setPageSize(QPageSize(QPageSize::A4));
        writer_.setPageMargins(QMarginsF(0, 0, 0, 0));
        writer_.setResolution(72); // one unit is one point
        writer_.setTitle(QStringLiteral("Test Document"));
        painter_ = std::make_unique<QPainter>(&writer_);
        QFont font(QStringLiteral("DejaVu Serif"));
        font.setPointSizeF(pointSize);
        painter_->setFont(font);
    }

    void newPage() { writer_.newPage(); }
    // Draws `text` with its baseline at `baseline`.
    void text(qreal x, qreal baseline, const QString& text) {
        painter_->drawText(QPointF(x, baseline), text);
    }
    void text(qreal x, qreal baseline, const QString& text, qreal pointSize) {
        QFont font = painter_->font();
        const QFont saved = font;
        font.setPointSizeF(pointSize);
        painter_->setFont(font);
        painter_->drawText(QPointF(x, baseline), text);
        painter_->setFont(saved);
    }
    // A grey picture, as a scanned page would be.
    void image(const QRectF& rect) {
        QImage picture(200, 280, QImage::Format_RGB32);
        picture.fill(QColor(120, 120, 120));
        painter_->drawImage(rect, picture);
    }
    qreal width(const QString& text) const {
        return QFontMetricsF(painter_->font(), &writer_).horizontalAdvance(text);
    }
    // Greedy line breaking of a paragraph into lines no wider than `width` (the first line
    // `indent` narrower).
    QStringList wrap(const QString& paragraph, qreal lineWidth, qreal indent = 0) const {
        QStringList lines;
        QString line;
        for (const QString& word : paragraph.split(QLatin1Char(' '))) {
            const QString candidate = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
            const qreal available = lineWidth - (lines.isEmpty() ? indent : 0);
            if (!line.isEmpty() && width(candidate) > available) {
                lines << line;
                line = word;
            } else {
                line = candidate;
            }
        }
        if (!line.isEmpty()) lines << line;
        return lines;
    }
    // Draws the words of `line` spread over exactly `lineWidth`, as justified book text is.
    void justified(qreal x, qreal baseline, const QString& line, qreal lineWidth) {
        const QStringList words = line.split(QLatin1Char(' '));
        if (words.size() < 2) {
            text(x, baseline, line);
            return;
        }
        qreal inked = 0;
        for (const QString& word : words)
            inked += width(word);
        const qreal gap = (lineWidth - inked) / qreal(words.size() - 1);
        for (const QString& word : words) {
            text(x, baseline, word);
            x += width(word) + gap;
        }
    }
    // Ends the document; false when it could not be written.
    bool finish() { return painter_->end(); }

private:
    QPdfWriter writer_;
    std::unique_ptr<QPainter> painter_;
};

} // namespace hiptest
