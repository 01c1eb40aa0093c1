#include "chat/chat_controller.h"

#include "bridge/answer_engine.h"
#include "chat/chat_export.h"
#include "chat/chat_model.h"

#include <QSaveFile>

namespace hip::ui {
namespace {

QString noteFor(hip::StopReason reason) {
    switch (reason) {
    case hip::StopReason::EndOfTurn:
        return {};
    case hip::StopReason::MaxTokens:
        return ChatController::tr("stopped at the answer length limit");
    case hip::StopReason::ContextFull:
        return ChatController::tr("stopped: the model's context is full");
    case hip::StopReason::Cancelled:
    case hip::StopReason::SinkStopped:
        return ChatController::tr("stopped");
    }
    return {};
}

} // namespace

ChatController::ChatController(AnswerEngine& engine, ChatModel& model, AppSettings& settings,
                               ChatStore store, QObject* parent)
    : QObject(parent), engine_(&engine), model_(model), settings_(settings),
      store_(std::move(store)) {
    connectEngine();
    // Every finished change is saved at once: a chat is small, and a crash must not lose it.
    connect(&model_, &ChatModel::contentChanged, this, [this] {
        if (const hip::Status saved = save(); !saved)
            emit error(QString::fromStdString(saved.message()));
    });
}

void ChatController::setEngine(AnswerEngine& engine) {
    if (&engine == engine_) return;
    if (answering_) {
        engine_->cancel();
        if (answering_) { // an engine on its own thread stops later: its answer ends here
            const int row = model_.streamingRow();
            model_.finishAnswer(row >= 0 ? model_.message(row).text : QString(),
                                noteFor(hip::StopReason::Cancelled));
            setAnswering(false);
        }
    }
    disconnect(engine_, nullptr, this, nullptr);
    engine_ = &engine;
    connectEngine();
    engine_->setHistory(turnsOf(model_.messages()));
}

void ChatController::connectEngine() {
    connect(engine_, &AnswerEngine::answerText, this, [this](const QString& text) {
        if (answering_) model_.appendToAnswer(text);
    });
    connect(engine_, &AnswerEngine::attentionUpdated, this,
            [this](const AttentionSummaryPtr& attention) {
                if (!answering_ || !attention) return;
                model_.setAnswerSources(model_.streamingRow(), sourcesOf(*attention));
                emit attentionChanged(attention);
            });
    connect(engine_, &AnswerEngine::answerFinished, this, [this](const AnswerOutcome& outcome) {
        if (!answering_) return;
        const int row = model_.streamingRow();
        if (outcome.attention) {
            model_.setAnswerSources(row, sourcesOf(*outcome.attention));
            emit attentionChanged(outcome.attention);
        }
        model_.finishAnswer(outcome.text, noteFor(outcome.stopReason));
        setAnswering(false);
    });
    connect(engine_, &AnswerEngine::answerFailed, this, [this](const QString& message) {
        if (!answering_) return;
        const int row = model_.streamingRow();
        model_.finishAnswer(row >= 0 ? model_.message(row).text : QString(),
                            tr("failed: %1").arg(message));
        setAnswering(false);
        emit error(tr("The answer failed: %1").arg(message));
    });
    // The engine's conversation was emptied (a book was read): the chat shown goes back into it.
    connect(engine_, &AnswerEngine::conversationCleared, this, [this] {
        if (ChatTurns turns = turnsOf(model_.messages()); !turns.empty())
            engine_->setHistory(turns);
    });
}

QString ChatController::setDocument(const QString& key, const QString& path, const QString& title) {
    if (answering_) engine_->cancel();
    // Every change was saved as it happened; the old chat only has to leave the model.
    key_.clear();
    model_.setMessages({});
    path_ = path;
    title_ = title;
    if (key.isEmpty()) return {};
    auto saved = store_.load(key);
    key_ = key;
    if (!saved) return QString::fromStdString(saved.message());
    model_.setMessages(std::move(saved->messages));
    return {};
}

bool ChatController::ask(const QString& question) {
    return send(question, settings_.generateOptions());
}

bool ChatController::regenerate() {
    if (answering_ || engine_->isBusy()) return false;
    const QString question = model_.takeLastAnswer();
    if (question.isEmpty()) return false;
    // A fresh draw: greedy decoding would write the same answer again.
    hip::GenerateOptions options = settings_.generateOptions();
    options.sampler.temperature = std::max(options.sampler.temperature, 0.7f);
    options.sampler.seed += ++regenerations_;
    // The chat without the replaced exchange: the model must not see its previous answer. The KV
    // cache of everything before the question is reused.
    return send(question, options, turnsOf(model_.messages()));
}

bool ChatController::send(const QString& question, const hip::GenerateOptions& options,
                          std::optional<ChatTurns> history) {
    if (answering_ || question.trimmed().isEmpty()) return false;
    if (!engine_->ask(question, options, std::move(history))) return false;
    model_.addQuestion(question);
    model_.beginAnswer();
    setAnswering(true);
    return true;
}

void ChatController::stop() {
    if (answering_) engine_->cancel();
}

void ChatController::setAnswering(bool answering) {
    if (answering_ == answering) return;
    answering_ = answering;
    emit answeringChanged(answering);
}

std::vector<ChatSource> ChatController::sourcesOf(const AttentionSummary& attention) {
    std::vector<ChatSource> sources;
    for (const doc::PageAttention& page : attention.pages) {
        ChatSource source;
        source.page = page.page;
        source.label = page.label;
        source.weight = page.weight;
        if (!page.passages.empty()) {
            const doc::Passage& passage = page.passages.front();
            source.quote = passage.quote;
            source.textBegin = passage.text.begin;
            source.textEnd = passage.text.end;
        }
        sources.push_back(source);
    }
    return sources;
}

ChatTurns ChatController::turnsOf(const std::vector<ChatMessage>& messages) {
    ChatTurns turns;
    for (size_t i = 0; i + 1 < messages.size(); ++i) {
        const ChatMessage& question = messages[i];
        const ChatMessage& answer = messages[i + 1];
        if (question.role != ChatMessage::Role::User ||
            answer.role != ChatMessage::Role::Assistant || answer.streaming ||
            answer.text.isEmpty())
            continue;
        turns.push_back({"user", question.text.toStdString()});
        turns.push_back({"assistant", answer.text.toStdString()});
        ++i;
    }
    return turns;
}

QString ChatController::markdown() const {
    return chatToMarkdown(title_, model_.messages());
}

hip::Status ChatController::exportMarkdown(const QString& path) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(markdown().toUtf8()) < 0 || !file.commit())
        return hip::makeError(hip::ErrorCode::NotFound,
                              tr("The chat could not be exported to %1: %2")
                                  .arg(path, file.errorString())
                                  .toStdString());
    return hip::Status::ok();
}

hip::Status ChatController::save() const {
    if (key_.isEmpty()) return hip::Status::ok();
    return store_.save(key_, {path_, title_, model_.messages()});
}

} // namespace hip::ui
