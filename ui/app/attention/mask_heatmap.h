#pragma once
// HiP's mask in one layer while the last answer was written: one row per generated token, one
// column per page of the book (several pages to a column when they outnumber the pixels; parts
// of a page when zoomed in), the x axis labelled in pages. A cell's colour is the share of its
// keys HiP selected; the sink tokens and the sliding window, always attended, have their own
// colour. The cells are gathered for the range in view and kept until it changes, so a paint
// costs the same for a page as for a thousand-page book.

#include "attention/chart_widget.h"
#include "attention/mask_grid.h"
#include "bridge/bridge_types.h"

#include <QImage>

namespace hip::ui {

class MaskHeatmap final : public ChartWidget {
    Q_OBJECT

public:
    explicit MaskHeatmap(QWidget* parent = nullptr);

    void setMask(AttentionMaskPtr mask);
    const AttentionMaskPtr& mask() const { return mask_; }
    QString accessibleSummary() const override;

    // The cells of the last paint (empty before one).
    const MaskGrid& grid() const { return grid_; }
    // The pages (0-based, first and last) whose keys are in view; {-1, -1} without a book.
    std::pair<int, int> pagesInView() const;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    // The cells and their picture for the view and a plot of `size` device pixels.
    void gather(QSize size);
    int pageAt(int64_t position) const; // -1 outside the book
    QString describeCell(QPointF at) const;

    AttentionMaskPtr mask_;
    MaskGrid grid_;
    QImage cells_;
    // What grid_ and cells_ were gathered for.
    const AttentionMask* gatheredMask_ = nullptr;
    double gatheredMin_ = 0;
    double gatheredMax_ = 0;
    QSize gatheredSize_;
};

} // namespace hip::ui
