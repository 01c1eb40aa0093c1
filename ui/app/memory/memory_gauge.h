#pragma once
// The memory the model uses, live: a bar of the compute device's memory split into weights, KV
// cache, scratch, other programs and free; a bar for the KV cache offloaded to host memory (GPU
// engines); and a sparkline of the last minute. On the CPU engine the device is the host's RAM.

#include "common/accessible_summary.h"
#include "memory/memory_history.h"

#include <QWidget>

namespace hip::ui {

class MemoryGauge final : public QWidget, public AccessibleSummary {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MemoryGauge)

public:
    explicit MemoryGauge(QWidget* parent = nullptr);

    void addSample(const MemorySample& sample);
    void setOnGpu(bool onGpu);
    void clear();
    const MemoryHistory& history() const { return history_; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    QString accessibleSummary() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    struct Part {
        QString name;
        uint64_t bytes;
        QColor color;
    };
    std::vector<Part> deviceParts(const hip::MemoryReport& report) const;

    MemoryHistory history_;
    bool onGpu_ = false;
};

} // namespace hip::ui
