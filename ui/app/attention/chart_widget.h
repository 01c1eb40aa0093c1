#pragma once
// The base of the attention charts: a painted widget that describes itself to assistive
// technology and saves what it shows as a PNG at the screen's pixel density. A chart may make its
// x axis zoomable: the wheel zooms about the pointer, dragging across the plot zooms onto the
// stretch dragged, the arrow keys pan, + and - zoom, and a double click or Escape shows it all.

#include "common/accessible_summary.h"
#include "common/zoom_range.h"

#include <hip/status.h>

#include <QWidget>

#include <optional>

namespace hip::ui {

class ChartWidget : public QWidget, public AccessibleSummary {
    Q_OBJECT

public:
    explicit ChartWidget(QWidget* parent = nullptr);

    hip::Status savePng(const QString& path);
    QSize sizeHint() const override { return {560, 380}; }
    QSize minimumSizeHint() const override { return {320, 220}; }

    // The x axis's zoom, in the chart's own units (meaningless unless isZoomable()).
    const ZoomRange& zoom() const { return zoom_; }
    bool isZoomable() const { return zoomable_; }
    // Shows [from, to] of the x axis; resetZoom() shows all of it.
    void zoomTo(double from, double to);
    void resetZoom();

signals:
    void zoomChanged(bool zoomed);

protected:
    // Subclasses call when their data changed: repaint and tell assistive technology.
    void dataChanged();
    // Makes the x axis zoomable over [min, max], no narrower than `minSpan`, showing all of it;
    // `zoomable` false turns zooming off.
    void setZoomExtent(double min, double max, double minSpan, bool zoomable = true);
    // The plot's rectangle as the last paint laid it out: where the mouse picks x values.
    void setPlotArea(const QRectF& plot) { plot_ = plot; }
    QRectF plotArea() const { return plot_; }
    // The x value under widget coordinate `x` in the current view.
    double valueAtX(double x) const;
    // Draws the stretch being dragged (call last in paintEvent).
    void paintDragSelection(QPainter& painter) const;

    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void viewChanged();

    ZoomRange zoom_;
    bool zoomable_ = false;
    QRectF plot_;
    std::optional<double> dragFrom_; // widget x where a drag started
    double dragTo_ = 0;
};

} // namespace hip::ui
