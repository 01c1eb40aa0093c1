#include "attention/locality_plot.h"

#include "attention/chart_painter.h"
#include "common/formatting.h"

#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace hip::ui {
namespace {

const QColor kLayer(213, 94, 0); // vermillion
const QColor kMean(0, 114, 178); // blue

} // namespace

LocalityPlot::LocalityPlot(QWidget* parent) : ChartWidget(parent) {
    setAccessibleName(tr("Attention locality"));
}

void LocalityPlot::setReport(LocalityReportPtr report) {
    report_ = std::move(report);
    // Zoomed in log2 of the distance, no closer than a factor of two.
    const double top =
        report_ && !report_->distances.empty() ? std::log2(double(report_->distances.back())) : 0;
    setZoomExtent(0, std::max(top, 1.0), 1, top >= 1 && !report_->sigma.empty());
    dataChanged();
}

void LocalityPlot::setTokensPerPage(double tokens) {
    tokensPerPage_ = tokens;
    update();
}

void LocalityPlot::setLayer(int layer) {
    layer_ = layer;
    dataChanged();
}

QString LocalityPlot::accessibleSummary() const {
    if (!report_ || report_->sigma.empty()) return tr("Locality not measured yet.");
    const size_t layer = std::min(size_t(std::max(0, layer_)), report_->sigma.size() - 1);
    const auto& s = report_->sigma[layer];
    if (s.empty()) return tr("No distances measured.");
    QString text = tr("Layer %1: score differences spread %2 for neighbouring keys and %3 for "
                      "keys %4 tokens apart.")
                       .arg(layer)
                       .arg(s.front(), 0, 'f', 2)
                       .arg(s.back(), 0, 'f', 2)
                       .arg(formatCount(report_->distances.back()));
    if (tokensPerPage_ > 0)
        text += QLatin1Char(' ') +
                tr("A page of the book is about %1 tokens.").arg(qRound(tokensPerPage_));
    return text;
}

void LocalityPlot::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    ChartPainter chart(painter, *this, rect(), 1);
    setPlotArea(chart.plot());
    chart.title(report_ ? tr("Attention locality, layer %1 (%2 tokens, %3 queries)")
                              .arg(layer_)
                              .arg(formatCount(report_->contextTokens))
                              .arg(report_->samples)
                        : tr("Attention locality"));
    const QString xTitle = tokensPerPage_ > 0
                               ? tr("key distance |i − j| (tokens, log scale; dotted: pages)")
                               : tr("key distance |i − j| (tokens, log scale)");
    if (!report_ || report_->distances.empty() || report_->sigma.empty()) {
        chart.xAxis({}, 0, 1, xTitle);
        chart.yAxis({}, 0, 1, tr("spread of s_i − s_j"));
        chart.message(
            tr("Press Measure to run the book's first tokens through the model and measure "
               "how alike the scores of near keys are (takes a while on the CPU)."));
        return;
    }
    const auto& distances = report_->distances;
    const size_t layer = std::min(size_t(std::max(0, layer_)), report_->sigma.size() - 1);
    const std::vector<double> mean = report_->meanSigma();
    double top = 0;
    for (const auto& layerSigma : report_->sigma)
        for (const double v : layerSigma)
            top = std::max(top, v);
    top *= 1.08;
    // x is log2 of the distance, over the zoomed range.
    const double minX = isZoomable() ? zoom().viewMin() : 0;
    const double maxX = isZoomable() ? zoom().viewMax() : 1;
    const QRectF plot = chart.plot();

    // Ticks at powers of two, every one, second, fourth... so that their labels do not touch.
    const double labelWidth = fontMetrics().horizontalAdvance(formatCount(distances.back())) +
                              2.0 * fontMetrics().averageCharWidth();
    const double room = std::max(1.0, plot.width() / labelWidth);
    int step = 1;
    while ((maxX - minX) / step > room)
        step *= 2;
    std::vector<Tick> xTicks;
    for (int power = int(std::ceil(minX)); power <= int(std::floor(maxX)); ++power)
        if (power % step == 0) xTicks.push_back({double(power), formatCount(int64_t(1) << power)});
    chart.xAxis(xTicks, minX, maxX, xTitle);
    std::vector<Tick> yTicks;
    for (const double v : ChartPainter::niceTicks(0, top, 5))
        yTicks.push_back({v, QString::number(v, 'g', 3)});
    chart.yAxis(yTicks, 0, top, tr("spread of s_i − s_j (std. dev.)"));

    painter.save();
    painter.setClipRect(plot);
    // 1, 10, 100, ... pages apart, at the book's mean page length.
    if (tokensPerPage_ > 0) {
        painter.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DotLine));
        for (int pages = 1; pages <= 100000; pages *= 10) {
            const double at = std::log2(pages * tokensPerPage_);
            if (at < minX || at > maxX) continue;
            const double px = chart.x(at, minX, maxX);
            painter.drawLine(QPointF(px, plot.top()), QPointF(px, plot.bottom()));
            painter.drawText(QRectF(px + 3, plot.top() + 2, 120, fontMetrics().lineSpacing()),
                             Qt::AlignLeft | Qt::AlignTop,
                             pages == 1 ? tr("1 page") : tr("%1 pages").arg(formatCount(pages)));
        }
    }
    auto curve = [&](const std::vector<double>& values) {
        QPainterPath path;
        for (size_t b = 0; b < values.size() && b < distances.size(); ++b) {
            const QPointF p(chart.x(std::log2(double(distances[b])), minX, maxX),
                            chart.y(values[b], 0, top));
            if (b == 0)
                path.moveTo(p);
            else
                path.lineTo(p);
        }
        return path;
    };
    QColor faint = palette().color(QPalette::Mid);
    faint.setAlpha(90);
    painter.setPen(QPen(faint, 1));
    for (size_t l = 0; l < report_->sigma.size(); ++l)
        if (l != layer) painter.drawPath(curve(report_->sigma[l]));
    painter.setPen(QPen(kMean, 2, Qt::DashLine));
    painter.drawPath(curve(mean));
    painter.setPen(QPen(kLayer, 2.5));
    painter.drawPath(curve(report_->sigma[layer]));
    painter.setBrush(kLayer);
    for (size_t b = 0; b < report_->sigma[layer].size() && b < distances.size(); ++b)
        painter.drawEllipse(QPointF(chart.x(std::log2(double(distances[b])), minX, maxX),
                                    chart.y(report_->sigma[layer][b], 0, top)),
                            2.5, 2.5);
    painter.restore();
    chart.legend({{kLayer, tr("layer %1").arg(layer), true},
                  {kMean, tr("mean over layers"), true},
                  {faint, tr("other layers"), true}});
    paintDragSelection(painter);
}

} // namespace hip::ui
