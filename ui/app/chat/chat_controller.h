#pragma once
// The conversation's logic: questions go to the answering engine (local or remote, see
// AnswerEngine), streamed text and sources come back into the ChatModel, finished chats are saved
// per document and restored when it opens again (into the model too, once the book is read, so
// follow-up questions see them), and a chat can be exported to Markdown.

#include "bridge/bridge_types.h"
#include "chat/chat_store.h"
#include "settings/app_settings.h"

#include <QObject>
#include <QString>

#include <optional>

namespace hip::ui {

class AnswerEngine;
class ChatModel;

class ChatController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatController)

public:
    ChatController(AnswerEngine& engine, ChatModel& model, AppSettings& settings, ChatStore store,
                   QObject* parent = nullptr);

    // Asks `engine` from now on; an answer being written by the one before is stopped, and the
    // chat shown becomes the new engine's conversation.
    void setEngine(AnswerEngine& engine);
    AnswerEngine& engine() const { return *engine_; }

    // Switches to the saved chat of another document (`key` empty: no document). Returns a
    // message when the saved chat could not be restored.
    QString setDocument(const QString& key, const QString& path, const QString& title);

    // Sends a question; false (nothing sent) while the engine is busy.
    bool ask(const QString& question);
    // Asks the last question again, sampled afresh, replacing its answer: the model sees the chat
    // up to that question, not the answer it replaces.
    bool regenerate();
    void stop();
    bool isAnswering() const { return answering_; }

    hip::Status exportMarkdown(const QString& path) const;
    QString markdown() const;
    hip::Status save() const;

    // The sources of an attention summary, as the chat keeps them.
    static std::vector<ChatSource> sourcesOf(const AttentionSummary& attention);
    // The conversation the model is given for these messages: each question with its answer;
    // a question without a finished, non-empty answer is left out.
    static ChatTurns turnsOf(const std::vector<ChatMessage>& messages);

signals:
    void answeringChanged(bool answering);
    // The latest attention of the answer being written (also when it finished).
    void attentionChanged(const hip::ui::AttentionSummaryPtr& attention);
    void error(const QString& message);

private:
    bool send(const QString& question, const hip::GenerateOptions& options,
              std::optional<ChatTurns> history = std::nullopt);
    void setAnswering(bool answering);
    void connectEngine();

    AnswerEngine* engine_;
    ChatModel& model_;
    AppSettings& settings_;
    ChatStore store_;
    QString key_;
    QString path_;
    QString title_;
    bool answering_ = false;
    quint64 regenerations_ = 0;
};

} // namespace hip::ui
