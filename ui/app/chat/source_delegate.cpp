#include "chat/source_delegate.h"

#include "chat/sources_model.h"
#include "common/heat_palette.h"

#include <QApplication>
#include <QPainter>

namespace hip::ui {
namespace {

constexpr int kPadding = 6;
constexpr int kBarWidth = 48;

} // namespace

QSize SourceDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
    const QFontMetrics metrics(option.font);
    return {kBarWidth * 4, 3 * metrics.lineSpacing() + 2 * kPadding + 2};
}

void SourceDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                           const QModelIndex& index) const {
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
    style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, opt.widget);

    painter->save();
    const bool selected = opt.state & QStyle::State_Selected;
    const QColor text = opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
    const QRect area = opt.rect.adjusted(kPadding, kPadding, -kPadding, -kPadding);
    const QFontMetrics metrics(opt.font);

    QFont bold = opt.font;
    bold.setBold(true);
    painter->setFont(bold);
    painter->setPen(text);
    const QString page = index.data(Qt::DisplayRole).toString();
    const QRect title(area.left(), area.top(), area.width() - kBarWidth - kPadding,
                      metrics.lineSpacing());
    painter->drawText(title, Qt::AlignLeft | Qt::AlignVCenter, page);

    const double weight = index.data(SourcesModel::WeightRole).toDouble();
    const QRect bar(area.right() - kBarWidth, area.top() + 3, kBarWidth, metrics.lineSpacing() - 6);
    painter->setPen(opt.palette.color(QPalette::Mid));
    painter->setBrush(Qt::NoBrush);
    painter->drawRect(bar);
    painter->fillRect(QRectF(bar.left() + 1, bar.top() + 1,
                             (bar.width() - 1) * std::min(1.0, weight), bar.height() - 1),
                      heatColor(0.35 + 0.65 * std::min(1.0, weight * 2)));

    painter->setFont(opt.font);
    painter->setPen(text);
    const QRect quoteRect(area.left(), area.top() + metrics.lineSpacing(), area.width(),
                          2 * metrics.lineSpacing());
    const QString quote = index.data(SourcesModel::QuoteRole).toString();
    painter->drawText(quoteRect, Qt::TextWordWrap | Qt::AlignLeft | Qt::AlignTop,
                      metrics.elidedText(quote, Qt::ElideRight,
                                         2 * quoteRect.width() - metrics.averageCharWidth() * 4));
    painter->restore();
}

} // namespace hip::ui
