#include "chat/sources_model.h"

namespace hip::ui {

SourcesModel::SourcesModel(QObject* parent) : QAbstractListModel(parent) {}

void SourcesModel::setSources(std::vector<ChatSource> sources) {
    if (sources == sources_) return;
    beginResetModel();
    sources_ = std::move(sources);
    endResetModel();
}

int SourcesModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(sources_.size());
}

QVariant SourcesModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ChatSource& s = sources_[size_t(index.row())];
    const QString page =
        tr("Page %1").arg(s.label.isEmpty() ? QString::number(s.page + 1) : s.label);
    switch (role) {
    case Qt::DisplayRole:
        return page;
    case Qt::ToolTipRole:
        return tr("%1: %2% of the answer's attention on the book.\n%3")
            .arg(page)
            .arg(qRound(s.weight * 100))
            .arg(s.quote);
    case Qt::AccessibleTextRole:
        return tr("%1, %2 percent of the attention: %3")
            .arg(page)
            .arg(qRound(s.weight * 100))
            .arg(s.quote);
    case PageRole:
        return s.page;
    case LabelRole:
        return s.label;
    case QuoteRole:
        return s.quote;
    case WeightRole:
        return s.weight;
    case SourceRole:
        return QVariant::fromValue(s);
    default:
        return {};
    }
}

QHash<int, QByteArray> SourcesModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(PageRole, "page");
    names.insert(LabelRole, "label");
    names.insert(QuoteRole, "quote");
    names.insert(WeightRole, "weight");
    names.insert(SourceRole, "source");
    return names;
}

} // namespace hip::ui
