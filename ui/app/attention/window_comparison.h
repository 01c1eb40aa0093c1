#pragma once
// For a short window of the text: exact attention (dense softmax over every key) beside the keys
// HiP attends for the same queries, and how much of the exact attention HiP's keys hold.

#include "attention/chart_widget.h"
#include "bridge/attention_window.h"

namespace hip::ui {

class WindowComparison final : public ChartWidget {
    Q_OBJECT

public:
    explicit WindowComparison(QWidget* parent = nullptr);

    void setWindow(AttentionWindowPtr window);
    // What to show instead of data (the engine lacks the scores, an error).
    void setMessage(const QString& message);
    const AttentionWindowPtr& window() const { return window_; }
    // The share of the dense attention that falls on HiP's keys, averaged over query rows.
    double recall() const;
    // Which HiP configuration the window shows (sinks, window, budget), and whether it was
    // scaled down to the window.
    QString attentionDescription() const;
    QSize sizeHint() const override { return {760, 380}; }
    QString accessibleSummary() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    AttentionWindowPtr window_;
    QString message_;
};

} // namespace hip::ui
