#include "attention/mask_heatmap.h"

#include "attention/chart_painter.h"
#include "common/formatting.h"
#include "common/heat_palette.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <array>
#include <cmath>

namespace hip::ui {
namespace {

const QColor kAlways(0, 158, 115); // sinks and window (Okabe-Ito bluish green)
// The least zoom: a view of 64 key positions still shows HiP's key blocks.
constexpr double kLeastSpan = 64;

// heatColor in 256 steps: a cell's colour is looked up, not computed.
const std::array<QRgb, 256>& heatTable() {
    static const std::array<QRgb, 256> table = [] {
        std::array<QRgb, 256> t{};
        for (size_t i = 0; i < t.size(); ++i)
            t[i] = heatColor(double(i) / double(t.size() - 1)).rgb();
        return t;
    }();
    return table;
}

} // namespace

MaskHeatmap::MaskHeatmap(QWidget* parent) : ChartWidget(parent) {
    setAccessibleName(tr("HiP mask"));
    setToolTip(tr("Scroll or drag across the plot to zoom into pages; double-click or Escape "
                  "shows the whole context."));
}

void MaskHeatmap::setMask(AttentionMaskPtr mask) {
    const bool zoomable = mask && !mask->queries.empty();
    // Another layer of the same answer keeps the pages in view.
    const bool keepView = zoomable && isZoomable() && mask_->contextTokens == mask->contextTokens;
    mask_ = std::move(mask);
    if (!keepView)
        setZoomExtent(0, mask_ ? double(mask_->contextTokens) : 1,
                      mask_ ? std::min(kLeastSpan, double(mask_->contextTokens)) : 1, zoomable);
    gatheredMask_ = nullptr;
    dataChanged();
}

int MaskHeatmap::pageAt(int64_t position) const {
    if (!mask_ || mask_->pageStarts.empty() || position < mask_->documentBegin ||
        position >= mask_->documentEnd)
        return -1;
    const auto& starts = mask_->pageStarts;
    return std::max(
        0, int(std::upper_bound(starts.begin(), starts.end(), position) - starts.begin()) - 1);
}

std::pair<int, int> MaskHeatmap::pagesInView() const {
    if (!mask_ || mask_->pageStarts.empty()) return {-1, -1};
    const auto first = std::max<int64_t>(int64_t(zoom().viewMin()), mask_->documentBegin);
    const auto last =
        std::min<int64_t>(int64_t(std::ceil(zoom().viewMax())) - 1, mask_->documentEnd - 1);
    if (first > last) return {-1, -1};
    return {pageAt(first), pageAt(last)};
}

QString MaskHeatmap::accessibleSummary() const {
    if (!mask_) return tr("No mask yet: ask a question, then choose a layer.");
    if (!mask_->note.isEmpty()) return mask_->note;
    double selected = 0;
    for (const auto& ranges : mask_->ranges)
        for (const hip::KeyRange& range : ranges)
            selected += double(range.end - range.begin);
    const double share = mask_->queries.empty() ? 0
                                                : selected / double(mask_->queries.size()) /
                                                      double(mask_->contextTokens);
    QString text = tr("Layer %1: %2 generated tokens; HiP selected on average %3% of the %4 key "
                      "positions besides the sinks and the window.")
                       .arg(mask_->layer)
                       .arg(mask_->queries.size())
                       .arg(share * 100, 0, 'f', share < 0.1 ? 1 : 0)
                       .arg(formatCount(mask_->contextTokens));
    if (const auto [first, last] = pagesInView(); isZoomable() && zoom().isZoomed() && first >= 0)
        text += QLatin1Char(' ') + tr("Showing %1 to %2 of %3 pages.")
                                       .arg(mask_->pageNames[size_t(first)],
                                            mask_->pageNames[size_t(last)],
                                            formatCount(int64_t(mask_->pageStarts.size())));
    return text;
}

void MaskHeatmap::gather(QSize size) {
    if (gatheredMask_ == mask_.get() && gatheredMin_ == zoom().viewMin() &&
        gatheredMax_ == zoom().viewMax() && gatheredSize_ == size)
        return;
    gatheredMask_ = mask_.get();
    gatheredMin_ = zoom().viewMin();
    gatheredMax_ = zoom().viewMax();
    gatheredSize_ = size;
    const auto begin = int64_t(std::floor(gatheredMin_));
    const auto end = int64_t(std::ceil(gatheredMax_));
    grid_ = maskGrid(*mask_, maskColumns(*mask_, begin, end, size.width()), size.height());
    if (grid_.rows == 0) {
        cells_ = {};
        return;
    }
    // One pixel per device pixel across, one per row of cells down (scaled when drawn).
    std::vector<int> columnOf(size_t(size.width()));
    for (int x = 0; x < size.width(); ++x)
        columnOf[size_t(x)] =
            grid_.columnAt(begin + int64_t((x + 0.5) * double(end - begin) / double(size.width())));
    // Zoomed in so far that pages are split into columns: a faint line where each page starts,
    // drawn into the picture (a hundred lines drawn one by one would cost more than the cells).
    std::vector<bool> pageLine(size_t(size.width()), false);
    if (const auto [first, last] = pagesInView();
        first >= 0 && (last - first + 1) * kSplitPagePixels <= size.width())
        for (int page = first; page <= last; ++page)
            if (const int64_t start = mask_->pageStarts[size_t(page)]; start > begin && start < end)
                pageLine[size_t(double(start - begin) / double(end - begin) * size.width())] = true;
    const QColor ink = palette().color(QPalette::WindowText);
    auto withLine = [&](QRgb colour) {
        constexpr double kLine = 0.2; // the line's share of the colour
        return qRgb(int(qRed(colour) * (1 - kLine) + ink.red() * kLine),
                    int(qGreen(colour) * (1 - kLine) + ink.green() * kLine),
                    int(qBlue(colour) * (1 - kLine) + ink.blue() * kLine));
    };
    const QRgb base = palette().color(QPalette::Base).rgb();
    const QRgb always = kAlways.rgb();
    const auto& heat = heatTable();
    cells_ = QImage(size.width(), grid_.rows, QImage::Format_RGB32);
    std::vector<QRgb> colours(size_t(grid_.columns()));
    for (int row = 0; row < grid_.rows; ++row) {
        for (int c = 0; c < grid_.columns(); ++c) {
            const float a = grid_.alwaysAt(row, c);
            const float s = grid_.selectedAt(row, c);
            // Sinks and window show wherever they are most of what a cell attends, even in a
            // column of several pages. A selected cell is never paler than 0.3 of the ramp: one
            // key block in three pages still shows.
            colours[size_t(c)] =
                a > 0 && a >= s ? always
                : s > 0 ? heat[size_t(std::lround((0.3 + 0.7 * std::min(1.0f, a + s)) * 255))]
                        : base;
        }
        auto* line = reinterpret_cast<QRgb*>(cells_.scanLine(row));
        for (int x = 0; x < size.width(); ++x) {
            const QRgb colour =
                columnOf[size_t(x)] >= 0 ? colours[size_t(columnOf[size_t(x)])] : base;
            line[x] = pageLine[size_t(x)] ? withLine(colour) : colour;
        }
    }
}

void MaskHeatmap::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    ChartPainter chart(painter, *this, rect(), 1);
    setPlotArea(chart.plot());
    chart.title(mask_ ? tr("HiP mask, layer %1 (union over heads)").arg(mask_->layer)
                      : tr("HiP mask"));
    const size_t rows = mask_ ? mask_->queries.size() : 0;
    const double viewMin = mask_ ? zoom().viewMin() : 0;
    const double viewMax = mask_ ? zoom().viewMax() : 1;

    // The x axis in pages while two or more page starts are in view, else in key positions.
    std::vector<Tick> xTicks;
    QString xTitle = tr("key position (tokens)");
    if (const auto [first, last] = pagesInView(); first >= 0) {
        const auto& starts = mask_->pageStarts;
        const auto lo = std::lower_bound(starts.begin(), starts.end(), int64_t(viewMin));
        const auto hi = std::lower_bound(starts.begin(), starts.end(), int64_t(viewMax));
        const auto firstStart = int(lo - starts.begin()); // the first page starting in view
        const auto startsInView = int(hi - lo);
        if (startsInView >= 2) {
            for (const double v :
                 ChartPainter::niceTicks(firstStart + 1, firstStart + startsInView, 5))
                if (v == std::floor(v) && v >= firstStart + 1)
                    xTicks.push_back({double(starts[size_t(v) - 1]), formatCount(int64_t(v))});
            xTitle = tr("page (the question and answer follow the last)");
        } else {
            xTitle =
                first == last
                    ? tr("key position (tokens) in %1").arg(mask_->pageNames[size_t(first)])
                    : tr("key position (tokens) in %1 and %2")
                          .arg(mask_->pageNames[size_t(first)], mask_->pageNames[size_t(last)]);
        }
    }
    if (xTicks.empty())
        for (const double v : ChartPainter::niceTicks(viewMin, viewMax, 5))
            xTicks.push_back({v, formatCount(int64_t(v))});
    chart.xAxis(xTicks, viewMin, viewMax, xTitle);

    const double rowsExtent = double(std::max<size_t>(rows, 1));
    std::vector<Tick> yTicks;
    // Row 0 (the first generated token) at the top, as a matrix reads.
    for (const double v : ChartPainter::niceTicks(0, rowsExtent, 4))
        yTicks.push_back({rowsExtent - v, QString::number(int(v))});
    chart.yAxis(yTicks, 0, rowsExtent, tr("generated token (query)"));
    chart.legend({{heatColor(1), tr("selected")},
                  {heatColor(0.35), tr("partly selected")},
                  {kAlways, tr("sinks and window")},
                  {palette().color(QPalette::Highlight), tr("the book"), true}});
    if (!mask_ || rows == 0) {
        chart.message(mask_ ? mask_->note
                            : tr("Ask a question with a HiP preset to see which key blocks each "
                                 "generated token attended."));
        return;
    }

    const QRectF plot = chart.plot();
    const double ratio = devicePixelRatioF();
    gather(QSize(std::max(1, int(std::lround(plot.width() * ratio))),
                 std::max(1, int(std::lround(plot.height() * ratio)))));
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(plot, cells_);
    // The document's extent along the key axis, as far as it is in view.
    const double bookBegin = std::max(double(mask_->documentBegin), viewMin);
    const double bookEnd = std::min(double(mask_->documentEnd), viewMax);
    if (bookEnd > bookBegin) {
        painter.setPen(QPen(palette().color(QPalette::Highlight), 3));
        painter.drawLine(QPointF(chart.x(bookBegin, viewMin, viewMax), plot.bottom() + 1.5),
                         QPointF(chart.x(bookEnd, viewMin, viewMax), plot.bottom() + 1.5));
    }
    paintDragSelection(painter);
}

QString MaskHeatmap::describeCell(QPointF at) const {
    if (!mask_ || grid_.rows == 0 || !plotArea().contains(at)) return {};
    const auto position = int64_t(valueAtX(at.x()));
    const int column = grid_.columnAt(position);
    const int row = std::clamp(int((at.y() - plotArea().top()) / plotArea().height() * grid_.rows),
                               0, grid_.rows - 1);
    if (column < 0) return {};
    const int page = pageAt(position);
    const QString where = page >= 0                         ? mask_->pageNames[size_t(page)]
                          : position < mask_->documentBegin ? tr("before the book")
                                                            : tr("the conversation");
    const int firstToken = row * grid_.rowsPerCell;
    const int lastToken = std::min(int(mask_->queries.size()), firstToken + grid_.rowsPerCell) - 1;
    const QString tokens = firstToken == lastToken
                               ? tr("generated token %1").arg(firstToken)
                               : tr("generated tokens %1–%2").arg(firstToken).arg(lastToken);
    return tr("%1 (keys %2–%3), %4: %5% selected by HiP, %6% sinks or window")
        .arg(where, formatCount(grid_.edges[size_t(column)]),
             formatCount(grid_.edges[size_t(column) + 1] - 1), tokens)
        .arg(qRound(grid_.selectedAt(row, column) * 100))
        .arg(qRound(grid_.alwaysAt(row, column) * 100));
}

bool MaskHeatmap::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        const QString text = describeCell(help->pos());
        QToolTip::showText(help->globalPos(), text.isEmpty() ? toolTip() : text, this);
        return true;
    }
    return ChartWidget::event(event);
}

} // namespace hip::ui
