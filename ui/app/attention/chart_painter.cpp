#include "attention/chart_painter.h"

#include <QPainter>
#include <QWidget>

#include <cmath>

namespace hip::ui {

ChartPainter::ChartPainter(QPainter& painter, const QWidget& widget, QRectF area, int legendRows)
    : painter_(painter), widget_(widget), area_(area), line_(widget.fontMetrics().lineSpacing()) {
    const double left = widget.fontMetrics().horizontalAdvance(QStringLiteral("0000000")) + line_;
    const double top = line_ + 6; // the title
    const double bottom =
        2 * line_ + 8 + legendRows * (line_ + 4); // tick labels, axis title, legend
    // The right margin leaves room for the last x tick's label, centred on the plot's edge.
    plot_ = area.adjusted(left, top,
                          -widget.fontMetrics().horizontalAdvance(QStringLiteral("0000")), -bottom);
}

double ChartPainter::x(double value, double min, double max) const {
    return plot_.left() + plot_.width() * (max > min ? (value - min) / (max - min) : 0);
}

double ChartPainter::y(double value, double min, double max) const {
    return plot_.bottom() - plot_.height() * (max > min ? (value - min) / (max - min) : 0);
}

void ChartPainter::title(const QString& text) {
    QFont bold = widget_.font();
    bold.setBold(true);
    painter_.setFont(bold);
    painter_.setPen(widget_.palette().color(QPalette::WindowText));
    painter_.drawText(QRectF(area_.left(), area_.top(), area_.width(), line_ + 4),
                      Qt::AlignHCenter | Qt::AlignVCenter, text);
    painter_.setFont(widget_.font());
}

void ChartPainter::xAxis(const std::vector<Tick>& ticks, double min, double max,
                         const QString& title) {
    const QColor ink = widget_.palette().color(QPalette::WindowText);
    painter_.setPen(QPen(ink, 1));
    painter_.drawLine(QPointF(plot_.left(), plot_.bottom()),
                      QPointF(plot_.right(), plot_.bottom()));
    for (const Tick& t : ticks) {
        const double px = x(t.value, min, max);
        painter_.drawLine(QPointF(px, plot_.bottom()), QPointF(px, plot_.bottom() + 4));
        painter_.drawText(QRectF(px - 60, plot_.bottom() + 4, 120, line_),
                          Qt::AlignHCenter | Qt::AlignTop, t.label);
    }
    painter_.drawText(QRectF(plot_.left(), plot_.bottom() + 4 + line_, plot_.width(), line_ + 2),
                      Qt::AlignHCenter | Qt::AlignTop, title);
}

void ChartPainter::yAxis(const std::vector<Tick>& ticks, double min, double max,
                         const QString& title) {
    const QColor ink = widget_.palette().color(QPalette::WindowText);
    painter_.setPen(QPen(ink, 1));
    painter_.drawLine(QPointF(plot_.left(), plot_.top()), QPointF(plot_.left(), plot_.bottom()));
    for (const Tick& t : ticks) {
        const double py = y(t.value, min, max);
        painter_.drawLine(QPointF(plot_.left() - 4, py), QPointF(plot_.left(), py));
        painter_.drawText(QRectF(area_.left() + line_, py - line_ / 2.0,
                                 plot_.left() - area_.left() - line_ - 6, line_),
                          Qt::AlignRight | Qt::AlignVCenter, t.label);
    }
    painter_.save();
    painter_.translate(area_.left() + 2, plot_.center().y());
    painter_.rotate(-90);
    painter_.drawText(QRectF(-plot_.height() / 2, 0, plot_.height(), line_),
                      Qt::AlignHCenter | Qt::AlignTop, title);
    painter_.restore();
}

void ChartPainter::legend(const std::vector<LegendEntry>& entries) {
    const QFontMetrics metrics = widget_.fontMetrics();
    double lx = plot_.left();
    const double ly = area_.bottom() - line_ - 2;
    for (const LegendEntry& e : entries) {
        const double w = 18 + metrics.horizontalAdvance(e.label) + 14;
        if (e.line) {
            painter_.setPen(QPen(e.color, 2));
            painter_.drawLine(QPointF(lx, ly + line_ / 2.0), QPointF(lx + 12, ly + line_ / 2.0));
        } else {
            painter_.setPen(QPen(widget_.palette().color(QPalette::Mid), 1));
            painter_.setBrush(e.color);
            painter_.drawRect(QRectF(lx, ly + (line_ - 10) / 2.0, 12, 10));
            painter_.setBrush(Qt::NoBrush);
        }
        painter_.setPen(widget_.palette().color(QPalette::WindowText));
        painter_.drawText(QRectF(lx + 16, ly, w, line_), Qt::AlignLeft | Qt::AlignVCenter, e.label);
        lx += w;
    }
}

void ChartPainter::message(const QString& text) {
    painter_.setPen(widget_.palette().color(QPalette::PlaceholderText));
    painter_.drawText(plot_.adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap, text);
}

std::vector<double> ChartPainter::niceTicks(double min, double max, int count) {
    std::vector<double> ticks;
    if (!(max > min) || count < 1) return {min};
    const double raw = (max - min) / count;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= m * magnitude) {
            step = m * magnitude;
            break;
        }
    for (double v = std::ceil(min / step) * step; v <= max + step * 1e-9; v += step)
        ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
    return ticks;
}

} // namespace hip::ui
