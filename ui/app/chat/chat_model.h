#pragma once
// The messages of the open document's chat, for the chat panel, the store and the exporter.
// Touched only on the GUI thread: the bridge's signals arrive there and are applied here.

#include "chat/chat_message.h"

#include <QAbstractListModel>

#include <vector>

namespace hip::ui {

class ChatModel final : public QAbstractListModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatModel)

public:
    enum Roles {
        RoleRole = Qt::UserRole + 1, // ChatMessage::Role as int
        TextRole,
        TimeRole,
        StreamingRole,
        NoteRole,
        SourceCountRole,
    };

    explicit ChatModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    const std::vector<ChatMessage>& messages() const { return messages_; }
    const ChatMessage& message(int row) const { return messages_.at(size_t(row)); }
    void setMessages(std::vector<ChatMessage> messages);
    void clear();

    int addQuestion(const QString& text);
    int beginAnswer(); // an empty streaming answer; returns its row
    void appendToAnswer(const QString& text);
    void setAnswerSources(int row, std::vector<ChatSource> sources);
    // Ends the streaming answer with its final text (the engine's, authoritative).
    void finishAnswer(const QString& text, const QString& note);
    // Removes the last answer (to regenerate it); returns its question, or empty without one.
    QString takeLastAnswer();

    int streamingRow() const { return streamingRow_; }
    int lastAnswerRow() const;

signals:
    // Something a saved chat holds changed (not emitted for streaming text).
    void contentChanged();

private:
    void changed(int row, const QList<int>& roles);

    std::vector<ChatMessage> messages_;
    int streamingRow_ = -1;
};

} // namespace hip::ui
