#include "served_model.h"

#include "stop_sequence_filter.h"

#include <document/passage_finder.h>

#include <chrono>

namespace serve {
namespace {

QString finishReason(hip::StopReason reason) {
    // A stop sequence stops the sink; the turn's end and a stop sequence are both "stop" to OpenAI.
    return reason == hip::StopReason::MaxTokens || reason == hip::StopReason::ContextFull
               ? QStringLiteral("length")
               : QStringLiteral("stop");
}

ApiError engineError(const hip::Status& status, GenerationRequest::Kind kind) {
    // The engine refuses a prompt that does not fit the context as an invalid argument.
    if (status.code() == hip::ErrorCode::InvalidArgument)
        return ApiError{400, QString::fromStdString(status.message()),
                        QStringLiteral("invalid_request_error"),
                        kind == GenerationRequest::Kind::Chat ? QStringLiteral("messages")
                                                              : QStringLiteral("prompt"),
                        QStringLiteral("context_length_exceeded")};
    return ApiError{
        500, QString::fromStdString(status.message()), QStringLiteral("server_error"), {}, {}};
}

// Loads a client's conversation into a session: the turns before the last, which is the
// question. System turns come first as the session's system prompt where the session has none
// of its own (a book's session keeps the book as its system turn and takes them as turns).
void restoreConversation(hip::Session& session, const std::vector<hip::ChatTurn>& messages,
                         bool keepSystemTurn) {
    std::vector<hip::ChatTurn> history(messages.begin(), messages.end() - 1);
    if (!keepSystemTurn) {
        std::string system;
        while (!history.empty() && history.front().role == "system") {
            system += (system.empty() ? "" : "\n\n") + history.front().content;
            history.erase(history.begin());
        }
        session.setSystemPrompt(system);
    }
    session.setHistory(std::move(history));
}

} // namespace

ServedModel::ServedModel(hip::Engine& engine, QString id)
    : engine_(engine), id_(std::move(id)), session_(engine.newSession()) {}

void ServedModel::addDocument(ServedDocument document) {
    documents_.push_back(std::move(document));
}

const ServedDocument* ServedModel::document(const QString& id) const {
    for (const ServedDocument& d : documents_)
        if (d.id == id) return &d;
    return nullptr;
}

GenerationOutcome ServedModel::generate(const GenerationRequest& request,
                                        const std::function<void(std::string_view)>& send,
                                        const hip::CancelToken& cancel) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    GenerationOutcome outcome;
    StopSequenceFilter filter(request.stop);
    auto deliver = [&](const std::string& text) {
        if (text.empty()) return;
        if (outcome.firstTextSeconds < 0)
            outcome.firstTextSeconds = std::chrono::duration<double>(Clock::now() - start).count();
        outcome.text += text;
        send(text);
    };
    const hip::TokenSink sink = [&](std::string_view piece) {
        deliver(filter.feed(piece));
        return !filter.stopped();
    };

    const ServedDocument* book = request.document.isEmpty() ? nullptr : document(request.document);
    hip::Session& session = book ? *book->session : *session_;
    hip::Result<hip::Answer> answer = [&] {
        if (request.kind == GenerationRequest::Kind::Completion)
            return session.complete(request.prompt, request.options, sink, cancel);
        restoreConversation(session, request.messages, book != nullptr);
        return session.ask(request.messages.back().content, request.options, sink, cancel);
    }();
    if (!answer && answer.status().code() == hip::ErrorCode::Cancelled) {
        outcome.cancelled = true;
        return outcome;
    }
    if (!answer) {
        outcome.error = engineError(answer.status(), request.kind);
        return outcome;
    }
    if (answer->stopReason == hip::StopReason::Cancelled) {
        outcome.cancelled = true;
        return outcome;
    }
    deliver(filter.finish());
    outcome.finishReason = finishReason(answer->stopReason);
    outcome.promptTokens = answer->stats.promptTokens + answer->stats.reusedTokens;
    outcome.completionTokens = answer->stats.generatedTokens;
    if (book && request.citedPages > 0)
        for (const hip::doc::PageAttention& page :
             hip::doc::citedPages(session.trace(), book->text, book->tokens, request.citedPages))
            outcome.citedPages.push_back(
                {book->text.pageName(page.page), page.page, page.weight,
                 page.passages.empty() ? QString() : page.passages.front().quote});
    return outcome;
}

} // namespace serve
