#pragma once
// HiP's mask in one layer while the last answer was written: one row per generated token, one
// column per block of key positions; a cell's colour is the share of its keys HiP selected. The
// sink tokens and the sliding window, always attended, are drawn in their own colour.

#include "attention/chart_widget.h"
#include "bridge/bridge_types.h"

namespace hip::ui {

class MaskHeatmap final : public ChartWidget {
    Q_OBJECT

public:
    explicit MaskHeatmap(QWidget* parent = nullptr);

    void setMask(AttentionMaskPtr mask);
    const AttentionMaskPtr& mask() const { return mask_; }
    QString accessibleSummary() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    AttentionMaskPtr mask_;
};

} // namespace hip::ui
