#include "attention/window_comparison.h"

#include "attention/chart_painter.h"
#include "common/heat_palette.h"

#include <QImage>
#include <QPainter>

#include <cmath>

namespace hip::ui {
namespace {

const QColor kMissed(150, 150, 150);

} // namespace

WindowComparison::WindowComparison(QWidget* parent) : ChartWidget(parent) {
    setAccessibleName(tr("Dense attention beside HiP's selection"));
}

void WindowComparison::setWindow(AttentionWindowPtr window) {
    window_ = std::move(window);
    message_.clear();
    dataChanged();
}

void WindowComparison::setMessage(const QString& message) {
    window_.reset();
    message_ = message;
    dataChanged();
}

double WindowComparison::recall() const {
    // The engine's: with masks of their own per head (the tree mode), each head counts on its own
    // keys, which the union drawn here cannot tell.
    return window_ ? window_->recall : 0;
}

QString WindowComparison::attentionDescription() const {
    if (!window_) return {};
    const hip::AttentionConfig& config = window_->attention;
    const QString name = QString::fromStdString(config.name);
    const QString budget = config.mode == hip::AttentionConfig::Mode::HipTree
                               ? tr("%1 selected keys per head").arg(config.treeTokens)
                               : tr("%1 selected keys").arg(config.finalTokens(window_->layer));
    const QString keys = tr("%1 sinks, a %2-token window and %3")
                             .arg(config.sinkTokens)
                             .arg(config.windowTokens)
                             .arg(budget);
    return window_->scaled ? tr("HiP (%1, scaled to the window): %2.").arg(name, keys)
                           : tr("HiP (%1): %2.").arg(name, keys);
}

QString WindowComparison::accessibleSummary() const {
    if (!window_) return message_.isEmpty() ? tr("Not measured yet.") : message_;
    return tr("Layer %1, %2 queries over %3 keys: HiP's selected keys hold %4% of the exact "
              "attention. %5")
        .arg(window_->layer)
        .arg(window_->rows())
        .arg(window_->keyTokens)
        .arg(qRound(recall() * 100))
        .arg(attentionDescription());
}

void WindowComparison::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    const QRectF all = rect();
    const QRectF left(all.left(), all.top(), all.width() / 2, all.height());
    const QRectF right(all.center().x(), all.top(), all.width() / 2, all.height());
    const double keys = window_ ? double(window_->keyTokens) : 1;
    const double rows = window_ ? double(window_->rows()) : 1;
    const double first = window_ ? double(window_->queryBegin) : 0;

    auto axes = [&](ChartPainter& chart, const QString& title) {
        chart.title(title);
        std::vector<Tick> xTicks, yTicks;
        if (window_) {
            for (const double v : ChartPainter::niceTicks(0, keys, 4))
                xTicks.push_back({v, QString::number(int(v))});
            // The first query at the top, as a matrix reads.
            for (const double v : ChartPainter::niceTicks(first, first + rows, 3))
                yTicks.push_back({2 * first + rows - v, QString::number(int(v))});
        }
        chart.xAxis(xTicks, 0, keys, tr("key position"));
        chart.yAxis(yTicks, first, first + rows, tr("query position"));
    };
    ChartPainter dense(painter, *this, left, 1);
    axes(dense, tr("Exact attention (dense), layer %1").arg(window_ ? window_->layer : 0));
    dense.legend({{heatColor(0.1), tr("low")}, {heatColor(1), tr("high probability (log scale)")}});
    ChartPainter hip(painter, *this, right, 1);
    axes(hip, window_ ? tr("HiP's keys: %1% of the exact attention").arg(qRound(recall() * 100))
                      : tr("HiP's keys"));
    hip.legend({{heatColor(0.8), tr("attended by HiP")}, {kMissed, tr("left out by HiP")}});
    if (!window_) {
        const QString text =
            message_.isEmpty() ? tr("Press Measure to compare a short window.") : message_;
        dense.message(text);
        return;
    }

    const auto keyCount = int(window_->keyTokens);
    const auto rowCount = int(window_->rows());
    QImage exact(keyCount, rowCount, QImage::Format_ARGB32);
    QImage selected(keyCount, rowCount, QImage::Format_ARGB32);
    exact.fill(palette().color(QPalette::Base));
    selected.fill(palette().color(QPalette::Base));
    for (int r = 0; r < rowCount; ++r) {
        // Log scale per row: attention spans orders of magnitude; 1e-4 of the row's peak is the
        // floor.
        float peak = 0;
        for (int k = 0; k < keyCount; ++k)
            peak = std::max(peak, window_->dense[size_t(r) * size_t(keyCount) + size_t(k)]);
        if (peak <= 0) continue;
        for (int k = 0; k < keyCount; ++k) {
            const size_t cell = size_t(r) * size_t(keyCount) + size_t(k);
            const float p = window_->dense[cell];
            const double t = p > 0 ? std::clamp(1 + std::log10(double(p / peak)) / 4, 0.0, 1.0) : 0;
            if (t > 0) exact.setPixelColor(k, r, heatColor(t));
            if (window_->hip[cell]) {
                // Attended keys show even where exact attention is negligible.
                selected.setPixelColor(k, r, heatColor(std::max(t, 0.05)));
            } else if (t > 0) {
                QColor missed = kMissed;
                missed.setAlphaF(float(0.25 + 0.75 * t));
                selected.setPixelColor(k, r, missed);
            }
        }
    }
    painter.drawImage(dense.plot(), exact);
    painter.drawImage(hip.plot(), selected);
}

} // namespace hip::ui
