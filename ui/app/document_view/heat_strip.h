#pragma once
// A narrow strip beside the thumbnails: the whole book from top to bottom, each page coloured by
// how much of the answer's attention fell on it, with a marker at the page in view. Clicking or
// dragging goes to a page; the arrow keys move by pages.

#include "common/accessible_summary.h"

#include <QWidget>

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

    QSize sizeHint() const override;
    QString accessibleSummary() const override;

signals:
    void pageRequested(int page);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    int pageAtY(double y) const;

    int pages_ = 0;
    int current_ = -1;
    std::vector<float> heat_;
    std::vector<QString> names_;
    float maxHeat_ = 0;
};

} // namespace hip::ui
