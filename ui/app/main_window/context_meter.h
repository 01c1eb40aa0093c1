#pragma once
// The status bar's context meter: how much of the model's context the book takes (and how much
// the conversation adds), so a reader sees at once whether the whole book is in.

#include "common/accessible_summary.h"

#include <QWidget>

namespace hip::ui {

class ContextMeter final : public QWidget, public AccessibleSummary {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ContextMeter)

public:
    explicit ContextMeter(QWidget* parent = nullptr);

    // `documentTokens` < 0: no document measured yet. `readTokens`: tokens of it in the model
    // (less than documentTokens when only the pages that fit were read).
    void setContext(qint64 capacity, qint64 documentTokens, qint64 readTokens);
    qint64 capacity() const { return capacity_; }
    qint64 documentTokens() const { return document_; }

    QSize sizeHint() const override;
    QString accessibleSummary() const override;
    QAccessible::Role accessibleRole() const override { return QAccessible::ProgressBar; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString label() const;

    qint64 capacity_ = 0;
    qint64 document_ = -1;
    qint64 read_ = 0;
};

} // namespace hip::ui
