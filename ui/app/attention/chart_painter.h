#pragma once
// What the attention charts share: the plot area inside room for axis labels, axes with ticks and
// titles, a legend, and "nice" tick values.

#include <QColor>
#include <QRectF>
#include <QString>

#include <vector>

class QPainter;
class QWidget;

namespace hip::ui {

struct Tick {
    double value; // in data units
    QString label;
};

struct LegendEntry {
    QColor color;
    QString label;
    bool line = false; // drawn as a line sample rather than a swatch
};

class ChartPainter {
public:
    // Lays the chart out in `area` of `widget` (for its palette and font), with a legend row at
    // the bottom when `legendRows` > 0.
    ChartPainter(QPainter& painter, const QWidget& widget, QRectF area, int legendRows = 1);

    QRectF plot() const { return plot_; }
    // Maps a value in [min, max] to the plot's x (left to right) or y (bottom to top).
    double x(double value, double min, double max) const;
    double y(double value, double min, double max) const;

    void title(const QString& text);
    void xAxis(const std::vector<Tick>& ticks, double min, double max, const QString& title);
    void yAxis(const std::vector<Tick>& ticks, double min, double max, const QString& title);
    void legend(const std::vector<LegendEntry>& entries);
    // A message in the middle of the plot (no data, what is missing).
    void message(const QString& text);

    // About `count` round values covering [min, max].
    static std::vector<double> niceTicks(double min, double max, int count);

private:
    QPainter& painter_;
    const QWidget& widget_;
    QRectF area_;
    QRectF plot_;
    int line_;
};

} // namespace hip::ui
