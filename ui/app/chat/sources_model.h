#pragma once
// The sources of one answer (the pages its attention went to most, with their passages), for the
// sources list beside the chat. GUI thread only.

#include "chat/chat_message.h"

#include <QAbstractListModel>

#include <vector>

namespace hip::ui {

class SourcesModel final : public QAbstractListModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SourcesModel)

public:
    enum Roles {
        PageRole = Qt::UserRole + 1, // page index
        LabelRole,                   // the page's label
        QuoteRole,
        WeightRole, // share of the attention, 0..1
        SourceRole, // the whole ChatSource
    };

    explicit SourcesModel(QObject* parent = nullptr);

    void setSources(std::vector<ChatSource> sources);
    const ChatSource& source(int row) const { return sources_.at(size_t(row)); }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    std::vector<ChatSource> sources_;
};

} // namespace hip::ui
