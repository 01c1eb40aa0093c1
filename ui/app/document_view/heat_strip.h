#pragma once
// A narrow strip beside the thumbnails: the book from top to bottom, each page coloured by how
// much of the answer's attention fell on it, with a marker at the page in view. A pixel row that
// stands for several pages (a thousand-page book) shows the hottest of them, so a hot page never
// vanishes. Clicking or dragging goes to a page; the arrow keys move by pages. The wheel zooms
// into a range of pages about the pointer, Shift+drag zooms onto the pages dragged over, and a
// double click or Escape shows the whole book again.

#include "common/accessible_summary.h"
#include "common/zoom_range.h"

#include <QWidget>

#include <optional>
#include <vector>

namespace hip::ui {

class HeatStrip final : public QWidget, public AccessibleSummary {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HeatStrip)

public:
    explicit HeatStrip(QWidget* parent = nullptr);

    void setPageCount(int pages);
    // Per page, its share of the attention (empty clears the heat).
    void setHeat(std::vector<float> heat, std::vector<QString> pageNames);
    void setCurrentPage(int page);

    // The pages in view, first and last (0-based); zoomTo shows [first, last].
    std::pair<int, int> pagesInView() const;
    void zoomTo(int first, int last);
    void resetZoom();
    // The heat drawn in each of `rows` pixel rows: the hottest page's share of the most heat,
    // 0 where no page has any.
    std::vector<float> rowHeat(int rows) const;

    QSize sizeHint() const override;
    QString accessibleSummary() const override;

signals:
    void pageRequested(int page);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    int pageAtY(double y) const;
    double yOfPage(double page) const;
    QString nameOf(int page) const;
    void viewChanged();

    int pages_ = 0;
    int current_ = -1;
    std::vector<float> heat_;
    std::vector<QString> names_;
    float maxHeat_ = 0;
    ZoomRange zoom_;                 // in pages
    std::optional<double> dragFrom_; // y where a Shift+drag started
    double dragTo_ = 0;
};

} // namespace hip::ui
