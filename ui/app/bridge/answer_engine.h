#pragma once
// What the chat asks its questions of: the local engine (EngineBridge, the model on its own
// thread) or a server that speaks OpenAI's API (RemoteEngine). Either streams an answer as
// answerText pieces and ends it with answerFinished (also when stopped: the text so far, with
// StopReason::Cancelled) or answerFailed. Only the local engine reports where attention went.

#include "bridge/bridge_types.h"

#include <hip/generation.h>

#include <QObject>
#include <QString>

#include <optional>

namespace hip::ui {

class AnswerEngine : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AnswerEngine)

public:
    using QObject::QObject;

    // Sends a question; false, doing nothing, while the engine is busy. With `history`, the
    // conversation before the question is replaced first (regenerating drops the old answer).
    virtual bool ask(const QString& question, const hip::GenerateOptions& options,
                     std::optional<ChatTurns> history) = 0;
    // Stops the answer being written; answerFinished follows with the text so far.
    virtual void cancel() = 0;
    virtual bool isBusy() const = 0;
    // Replaces the conversation the next question follows (a saved chat coming back).
    virtual void setHistory(const ChatTurns& turns) = 0;

signals:
    void answerText(const QString& text); // coalesced pieces of the streaming answer
    void attentionUpdated(const hip::ui::AttentionSummaryPtr& attention);
    void answerFinished(const hip::ui::AnswerOutcome& outcome);
    void answerFailed(const QString& message);
    // The engine's conversation was emptied (a book was read into it): the chat shown goes back.
    void conversationCleared();
};

} // namespace hip::ui
