#pragma once
// Custom-painted widgets (the heat strip, the memory gauge, the attention charts) show what a
// screen reader cannot see. Each implements AccessibleSummary: a sentence saying what it shows,
// which the accessibility interface below reports as the widget's value and description, and
// announces when it changes.

#include <QAccessible>
#include <QAccessibleWidget>
#include <QString>

class QWidget;

namespace hip::ui {

class AccessibleSummary {
public:
    virtual ~AccessibleSummary() = default;
    // What the widget shows now, in words ("GPU memory: 5.2 of 24 GiB used; weights 3.8 GiB ...").
    virtual QString accessibleSummary() const = 0;
    // The accessible role (a chart, a progress bar...).
    virtual QAccessible::Role accessibleRole() const { return QAccessible::Chart; }

protected:
    // Call when what the widget shows changed, so assistive technology hears of it.
    static void announceSummaryChanged(QWidget* widget);
};

class SummaryAccessible final : public QAccessibleWidget {
public:
    SummaryAccessible(QWidget* widget, const AccessibleSummary& summary);
    QString text(QAccessible::Text t) const override;

private:
    const AccessibleSummary& summary_;
};

// Installs the factory that gives every AccessibleSummary widget a SummaryAccessible (main()).
void installAccessibleSummaryFactory();

} // namespace hip::ui
