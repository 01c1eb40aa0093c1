#pragma once
// The locality HiP's pruning rests on: for one layer, the spread (standard deviation) of the
// difference between two keys' attention scores against the distance between the keys. Near keys
// score alike, so a block can be judged by one representative. Distances are also marked in the
// book's pages (1, 10, 100, ... pages at the book's mean tokens per page), and the distance axis
// zooms.

#include "attention/chart_widget.h"
#include "bridge/bridge_types.h"

namespace hip::ui {

class LocalityPlot final : public ChartWidget {
    Q_OBJECT

public:
    explicit LocalityPlot(QWidget* parent = nullptr);

    void setReport(LocalityReportPtr report);
    void setLayer(int layer);
    // The book's mean tokens per page; 0 (no book) marks no pages.
    void setTokensPerPage(double tokens);
    const LocalityReportPtr& report() const { return report_; }
    QString accessibleSummary() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    LocalityReportPtr report_;
    int layer_ = 0;
    double tokensPerPage_ = 0;
};

} // namespace hip::ui
