#pragma once
// The base of the attention charts: a painted widget that describes itself to assistive
// technology and saves what it shows as a PNG at the screen's pixel density.

#include "common/accessible_summary.h"

#include <hip/status.h>

#include <QWidget>

namespace hip::ui {

class ChartWidget : public QWidget, public AccessibleSummary {
    Q_OBJECT

public:
    explicit ChartWidget(QWidget* parent = nullptr);

    hip::Status savePng(const QString& path);
    QSize sizeHint() const override { return {560, 380}; }
    QSize minimumSizeHint() const override { return {320, 220}; }

protected:
    // Subclasses call when their data changed: repaint and tell assistive technology.
    void dataChanged();
};

} // namespace hip::ui
