#include "chat/chat_model.h"

namespace hip::ui {

ChatModel::ChatModel(QObject* parent) : QAbstractListModel(parent) {}

int ChatModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(messages_.size());
}

QVariant ChatModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ChatMessage& m = messages_[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case TextRole:
        return m.text;
    case Qt::AccessibleTextRole:
        return (m.role == ChatMessage::Role::User ? tr("You: %1") : tr("Answer: %1")).arg(m.text);
    case RoleRole:
        return int(m.role);
    case TimeRole:
        return m.time;
    case StreamingRole:
        return m.streaming;
    case NoteRole:
        return m.note;
    case SourceCountRole:
        return int(m.sources.size());
    default:
        return {};
    }
}

QHash<int, QByteArray> ChatModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(RoleRole, "role");
    names.insert(TextRole, "text");
    names.insert(TimeRole, "time");
    names.insert(StreamingRole, "streaming");
    names.insert(NoteRole, "note");
    names.insert(SourceCountRole, "sourceCount");
    return names;
}

void ChatModel::changed(int row, const QList<int>& roles) {
    const QModelIndex i = index(row);
    emit dataChanged(i, i, roles);
}

void ChatModel::setMessages(std::vector<ChatMessage> messages) {
    beginResetModel();
    messages_ = std::move(messages);
    streamingRow_ = -1;
    for (ChatMessage& m : messages_)
        m.streaming = false;
    endResetModel();
}

void ChatModel::clear() {
    setMessages({});
    emit contentChanged();
}

int ChatModel::addQuestion(const QString& text) {
    const int row = int(messages_.size());
    beginInsertRows({}, row, row);
    messages_.push_back(
        {ChatMessage::Role::User, text, QDateTime::currentDateTime(), {}, {}, false});
    endInsertRows();
    emit contentChanged();
    return row;
}

int ChatModel::beginAnswer() {
    const int row = int(messages_.size());
    beginInsertRows({}, row, row);
    messages_.push_back(
        {ChatMessage::Role::Assistant, {}, QDateTime::currentDateTime(), {}, {}, true});
    endInsertRows();
    streamingRow_ = row;
    return row;
}

void ChatModel::appendToAnswer(const QString& text) {
    if (streamingRow_ < 0) return;
    messages_[size_t(streamingRow_)].text += text;
    changed(streamingRow_, {Qt::DisplayRole, TextRole, Qt::AccessibleTextRole});
}

void ChatModel::setAnswerSources(int row, std::vector<ChatSource> sources) {
    if (row < 0 || row >= rowCount()) return;
    messages_[size_t(row)].sources = std::move(sources);
    changed(row, {SourceCountRole});
    if (row != streamingRow_) emit contentChanged();
}

void ChatModel::finishAnswer(const QString& text, const QString& note) {
    if (streamingRow_ < 0) return;
    const int row = std::exchange(streamingRow_, -1);
    ChatMessage& m = messages_[size_t(row)];
    m.text = text;
    m.note = note;
    m.streaming = false;
    changed(row, {Qt::DisplayRole, TextRole, Qt::AccessibleTextRole, StreamingRole, NoteRole});
    emit contentChanged();
}

int ChatModel::lastAnswerRow() const {
    for (int row = rowCount() - 1; row >= 0; --row)
        if (messages_[size_t(row)].role == ChatMessage::Role::Assistant) return row;
    return -1;
}

QString ChatModel::takeLastAnswer() {
    const int row = lastAnswerRow();
    if (row < 1 || row != rowCount() - 1 || streamingRow_ >= 0) return {};
    QString question = messages_[size_t(row - 1)].text;
    beginRemoveRows({}, row - 1, row);
    messages_.erase(messages_.begin() + row - 1, messages_.end());
    endRemoveRows();
    emit contentChanged();
    return question;
}

} // namespace hip::ui
