#include "attention/mask_heatmap.h"

#include "attention/chart_painter.h"
#include "common/formatting.h"
#include "common/heat_palette.h"

#include <QImage>
#include <QPainter>

namespace hip::ui {
namespace {

const QColor kAlways(0, 158, 115); // sinks and window (Okabe-Ito bluish green)

} // namespace

MaskHeatmap::MaskHeatmap(QWidget* parent) : ChartWidget(parent) {
    setAccessibleName(tr("HiP mask"));
}

void MaskHeatmap::setMask(AttentionMaskPtr mask) {
    mask_ = std::move(mask);
    dataChanged();
}

QString MaskHeatmap::accessibleSummary() const {
    if (!mask_) return tr("No mask yet: ask a question, then choose a layer.");
    if (!mask_->note.isEmpty()) return mask_->note;
    double selected = 0;
    for (const float c : mask_->cells)
        selected += c;
    const double share = mask_->cells.empty() ? 0 : selected / double(mask_->cells.size());
    return tr("Layer %1: %2 generated tokens; HiP selected on average %3% of the %4 key positions "
              "besides the sinks and the window.")
        .arg(mask_->layer)
        .arg(mask_->queries.size())
        .arg(qRound(share * 100))
        .arg(formatCount(mask_->contextTokens));
}

void MaskHeatmap::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    ChartPainter chart(painter, *this, rect(), 1);
    chart.title(mask_ ? tr("HiP mask, layer %1 (union over heads)").arg(mask_->layer)
                      : tr("HiP mask"));
    const double keys = mask_ ? double(mask_->contextTokens) : 1;
    const size_t rows = mask_ ? mask_->queries.size() : 0;
    std::vector<Tick> xTicks;
    for (const double v : ChartPainter::niceTicks(0, keys, 5))
        xTicks.push_back({v, formatCount(int64_t(v))});
    chart.xAxis(xTicks, 0, keys, tr("key position (tokens)"));
    std::vector<Tick> yTicks;
    for (const double v : ChartPainter::niceTicks(0, double(std::max<size_t>(rows, 1)), 4))
        yTicks.push_back({v, QString::number(int(v))});
    // Row 0 (the first generated token) at the top, as a matrix reads.
    std::vector<Tick> flipped;
    for (const Tick& t : yTicks)
        flipped.push_back({double(std::max<size_t>(rows, 1)) - t.value, t.label});
    chart.yAxis(flipped, 0, double(std::max<size_t>(rows, 1)), tr("generated token (query)"));
    chart.legend({{heatColor(1), tr("selected by HiP")},
                  {heatColor(0.35), tr("partly selected block")},
                  {kAlways, tr("sinks and window (always attended)")},
                  {palette().color(QPalette::Highlight), tr("the book's keys"), true}});
    if (!mask_ || rows == 0) {
        chart.message(mask_ ? mask_->note
                            : tr("Ask a question with a HiP preset to see which key blocks each "
                                 "generated token attended."));
        return;
    }

    // Paint into an image of one pixel per cell and scale it up: crisp blocks, cheap to draw.
    const int bins = mask_->keyBins;
    QImage cells(bins, int(rows), QImage::Format_ARGB32);
    cells.fill(palette().color(QPalette::Base));
    const double binSize = keys / bins;
    for (size_t row = 0; row < rows; ++row) {
        const int64_t query = mask_->queries[row];
        const int64_t windowBegin = std::max<int64_t>(0, query + 1 - mask_->windowTokens);
        for (int b = 0; b < bins; ++b) {
            const double begin = b * binSize;
            const double end = begin + binSize;
            if (begin > double(query)) break; // causal: nothing right of the query
            const float c = mask_->cells[row * size_t(bins) + size_t(b)];
            QColor color;
            if (end <= mask_->sinkTokens || begin >= double(windowBegin))
                color = kAlways;
            else if (c > 0)
                color = heatColor(0.3 + 0.7 * c);
            else
                continue;
            cells.setPixelColor(b, int(row), color);
        }
    }
    const QRectF plot = chart.plot();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(plot, cells);
    // The document's extent along the key axis.
    if (mask_->documentEnd > mask_->documentBegin) {
        painter.setPen(QPen(palette().color(QPalette::Highlight), 3));
        painter.drawLine(
            QPointF(chart.x(double(mask_->documentBegin), 0, keys), plot.bottom() + 1.5),
            QPointF(chart.x(double(mask_->documentEnd), 0, keys), plot.bottom() + 1.5));
    }
}

} // namespace hip::ui
