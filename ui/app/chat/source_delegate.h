#pragma once
// Draws a source in the list: the page in bold with a bar for its share of the attention, and the
// passage below in two lines at most.

#include <QStyledItemDelegate>

namespace hip::ui {

class SourceDelegate final : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace hip::ui
