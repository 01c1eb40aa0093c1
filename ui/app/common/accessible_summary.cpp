#include "common/accessible_summary.h"

#include <QWidget>

namespace hip::ui {
namespace {

QAccessibleInterface* summaryFactory(const QString&, QObject* object) {
    auto* widget = qobject_cast<QWidget*>(object);
    if (!widget) return nullptr;
    if (auto* summary = dynamic_cast<AccessibleSummary*>(widget))
        return new SummaryAccessible(widget, *summary);
    return nullptr;
}

} // namespace

void AccessibleSummary::announceSummaryChanged(QWidget* widget) {
    if (!QAccessible::isActive()) return;
    QAccessibleEvent event(widget, QAccessible::DescriptionChanged);
    QAccessible::updateAccessibility(&event);
}

SummaryAccessible::SummaryAccessible(QWidget* widget, const AccessibleSummary& summary)
    : QAccessibleWidget(widget, summary.accessibleRole()), summary_(summary) {}

QString SummaryAccessible::text(QAccessible::Text t) const {
    switch (t) {
    case QAccessible::Value:
    case QAccessible::Description:
        return summary_.accessibleSummary();
    default:
        return QAccessibleWidget::text(t);
    }
}

void installAccessibleSummaryFactory() {
    QAccessible::installFactory(summaryFactory);
}

} // namespace hip::ui
