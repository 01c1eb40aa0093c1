#include "plot_png.h"

#include "gui_application.h"

#include <QImage>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <memory>

namespace cli {
namespace {

constexpr int kWidth = 1100, kHeight = 700;
constexpr int kLeft = 80, kRight = 210, kTop = 50, kBottom = 60;

// A step of 1, 2 or 5 times a power of ten giving about `ticks` ticks over `range`.
double niceStep(double range, int ticks) {
    const double raw = range / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0})
        if (raw <= factor * magnitude) return factor * magnitude;
    return 10.0 * magnitude;
}

QColor color(uint32_t rgb) {
    return QColor(int(rgb >> 16 & 0xff), int(rgb >> 8 & 0xff), int(rgb & 0xff));
}

} // namespace

bool pngOutputAvailable() {
    return true;
}

std::string writePlotPng(const LinePlot& plot, const std::string& path) {
    const auto application = guiApplication();

    // Data ranges (x in axis units: log2 for a log axis).
    auto axisX = [&](double x) { return plot.logX ? std::log2(x) : x; };
    double xMin = INFINITY, xMax = -INFINITY, yMin = 0, yMax = -INFINITY;
    for (const PlotLine& line : plot.lines)
        for (size_t i = 0; i < line.x.size() && i < line.y.size(); ++i) {
            if (!std::isfinite(line.y[i]) || (plot.logX && line.x[i] <= 0)) continue;
            xMin = std::min(xMin, axisX(line.x[i]));
            xMax = std::max(xMax, axisX(line.x[i]));
            yMin = std::min(yMin, line.y[i]);
            yMax = std::max(yMax, line.y[i]);
        }
    if (!std::isfinite(xMin) || !std::isfinite(yMax)) return "nothing to plot";
    if (xMax == xMin) xMax = xMin + 1;
    if (yMax == yMin) yMax = yMin + 1;
    const double yStep = niceStep(yMax - yMin, 6);
    yMax = std::ceil(yMax / yStep) * yStep;
    yMin = std::floor(yMin / yStep) * yStep;

    const QRectF area(kLeft, kTop, kWidth - kLeft - kRight, kHeight - kTop - kBottom);
    // Pixel coordinates of an axis value.
    auto pixelX = [&](double x) { return area.left() + (x - xMin) / (xMax - xMin) * area.width(); };
    auto pixelY = [&](double y) {
        return area.bottom() - (y - yMin) / (yMax - yMin) * area.height();
    };

    QImage image(kWidth, kHeight, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    QFont font = painter.font();
    font.setPixelSize(13);
    painter.setFont(font);

    // Grid and tick labels.
    const QPen gridPen(QColor(225, 225, 225), 1);
    for (double y = yMin; y <= yMax + yStep / 2; y += yStep) {
        const double py = pixelY(y);
        painter.setPen(gridPen);
        painter.drawLine(QPointF(area.left(), py), QPointF(area.right(), py));
        painter.setPen(Qt::black);
        painter.drawText(QRectF(0, py - 10, kLeft - 8, 20), Qt::AlignRight | Qt::AlignVCenter,
                         QString::number(y, 'g', 4));
    }
    const double xStep = plot.logX ? 1.0 : niceStep(xMax - xMin, 8);
    for (double x = std::ceil(xMin / xStep) * xStep; x <= xMax + xStep / 2; x += xStep) {
        const double px = pixelX(x);
        painter.setPen(gridPen);
        painter.drawLine(QPointF(px, area.top()), QPointF(px, area.bottom()));
        painter.setPen(Qt::black);
        const double value = plot.logX ? std::pow(2.0, x) : x;
        painter.drawText(QRectF(px - 40, area.bottom() + 4, 80, 20), Qt::AlignHCenter,
                         QString::number(value, 'g', 6));
    }
    painter.setPen(QPen(Qt::black, 1));
    painter.drawRect(area);

    // Lines, in order (later ones on top).
    for (const PlotLine& line : plot.lines) {
        QPainterPath stroke;
        bool open = false;
        for (size_t i = 0; i < line.x.size() && i < line.y.size(); ++i) {
            if (!std::isfinite(line.y[i]) || (plot.logX && line.x[i] <= 0)) {
                open = false;
                continue;
            }
            const QPointF p(pixelX(axisX(line.x[i])), pixelY(line.y[i]));
            if (open)
                stroke.lineTo(p);
            else
                stroke.moveTo(p);
            open = true;
        }
        painter.setPen(QPen(color(line.rgb), line.width));
        painter.drawPath(stroke);
    }

    // Legend, right of the plot.
    double legendY = area.top() + 10;
    for (const PlotLine& line : plot.lines) {
        if (line.label.empty()) continue;
        painter.setPen(QPen(color(line.rgb), std::max(line.width, 2.0)));
        painter.drawLine(QPointF(area.right() + 15, legendY), QPointF(area.right() + 40, legendY));
        painter.setPen(Qt::black);
        painter.drawText(QRectF(area.right() + 46, legendY - 10, kRight - 50, 20),
                         Qt::AlignLeft | Qt::AlignVCenter, QString::fromStdString(line.label));
        legendY += 22;
    }

    // Title and axis labels.
    QFont titleFont = font;
    titleFont.setPixelSize(16);
    titleFont.setBold(true);
    painter.setFont(titleFont);
    painter.drawText(QRectF(0, 10, kWidth, 30), Qt::AlignHCenter,
                     QString::fromStdString(plot.title));
    painter.setFont(font);
    painter.drawText(QRectF(area.left(), kHeight - 30, area.width(), 24), Qt::AlignHCenter,
                     QString::fromStdString(plot.xLabel));
    painter.save();
    painter.translate(18, area.center().y());
    painter.rotate(-90);
    painter.drawText(QRectF(-area.height() / 2, -10, area.height(), 24), Qt::AlignHCenter,
                     QString::fromStdString(plot.yLabel));
    painter.restore();
    painter.end();

    if (!image.save(QString::fromStdString(path), "PNG")) return "cannot write " + path;
    return {};
}

} // namespace cli
