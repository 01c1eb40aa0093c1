#include "openai_response.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace serve {
namespace {

QByteArray compact(const QJsonObject& object) {
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QJsonValue nullable(const QString& text) {
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

bool isChat(const AnswerHeader& header) {
    return header.kind == GenerationRequest::Kind::Chat;
}

QJsonObject envelope(const AnswerHeader& header, bool chunk) {
    return {{QStringLiteral("id"), header.id},
            {QStringLiteral("object"), isChat(header)
                                           ? (chunk ? QStringLiteral("chat.completion.chunk")
                                                    : QStringLiteral("chat.completion"))
                                           : QStringLiteral("text_completion")},
            {QStringLiteral("created"), header.created},
            {QStringLiteral("model"), header.model}};
}

QJsonObject usage(const GenerationOutcome& outcome) {
    return {
        {QStringLiteral("prompt_tokens"), qint64(outcome.promptTokens)},
        {QStringLiteral("completion_tokens"), qint64(outcome.completionTokens)},
        {QStringLiteral("total_tokens"), qint64(outcome.promptTokens + outcome.completionTokens)}};
}

// The answer's extension: which book it read and the pages it attended to.
QJsonObject citations(const GenerationOutcome& outcome, const QString& document) {
    QJsonArray pages;
    for (const CitedPage& page : outcome.citedPages)
        pages.append(QJsonObject{{QStringLiteral("page"), page.name},
                                 {QStringLiteral("index"), page.index},
                                 {QStringLiteral("weight"), page.weight},
                                 {QStringLiteral("quote"), page.quote}});
    return {{QStringLiteral("document"), document}, {QStringLiteral("cited_pages"), pages}};
}

QJsonObject choice(const AnswerHeader& header, const QString& text, bool chunk,
                   const QString& finishReason, bool withRole) {
    QJsonObject item{{QStringLiteral("index"), 0},
                     {QStringLiteral("finish_reason"), nullable(finishReason)}};
    if (!isChat(header)) {
        item.insert(QStringLiteral("text"), text);
        item.insert(QStringLiteral("logprobs"), QJsonValue::Null);
        return item;
    }
    QJsonObject message;
    if (withRole) message.insert(QStringLiteral("role"), QStringLiteral("assistant"));
    if (!chunk || !text.isEmpty()) message.insert(QStringLiteral("content"), text);
    item.insert(chunk ? QStringLiteral("delta") : QStringLiteral("message"), message);
    item.insert(QStringLiteral("logprobs"), QJsonValue::Null);
    return item;
}

} // namespace

QByteArray errorBody(const ApiError& error) {
    return compact(
        {{QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), error.message},
                                               {QStringLiteral("type"), error.type},
                                               {QStringLiteral("param"), nullable(error.param)},
                                               {QStringLiteral("code"), nullable(error.code)}}}});
}

QJsonObject modelObject(const ServedModel& model, qint64 created) {
    QJsonArray documents;
    for (const ServedDocument& d : model.documents())
        documents.append(QJsonObject{{QStringLiteral("id"), d.id},
                                     {QStringLiteral("title"), d.text.title},
                                     {QStringLiteral("pages"), qint64(d.text.pages.size())},
                                     {QStringLiteral("tokens"), qint64(d.tokens.contextTokens())}});
    return {{QStringLiteral("id"), model.id()},
            {QStringLiteral("object"), QStringLiteral("model")},
            {QStringLiteral("created"), created},
            {QStringLiteral("owned_by"), QStringLiteral("hipreader")},
            {QStringLiteral("hipreader"),
             QJsonObject{{QStringLiteral("context_length"), qint64(model.engine().contextTokens())},
                         {QStringLiteral("documents"), documents}}}};
}

QByteArray modelListBody(const ServedModel& model, qint64 created) {
    return compact({{QStringLiteral("object"), QStringLiteral("list")},
                    {QStringLiteral("data"), QJsonArray{modelObject(model, created)}}});
}

QByteArray completionBody(const AnswerHeader& header, const GenerationOutcome& outcome,
                          const QString& document) {
    QJsonObject body = envelope(header, false);
    body.insert(QStringLiteral("choices"),
                QJsonArray{choice(header, QString::fromStdString(outcome.text), false,
                                  outcome.finishReason, true)});
    body.insert(QStringLiteral("usage"), usage(outcome));
    if (!document.isEmpty()) body.insert(QStringLiteral("hipreader"), citations(outcome, document));
    return compact(body);
}

QByteArray textChunk(const AnswerHeader& header, const std::string& text, bool first) {
    QJsonObject body = envelope(header, true);
    body.insert(QStringLiteral("choices"),
                QJsonArray{choice(header, QString::fromStdString(text), true, {}, first)});
    return compact(body);
}

QByteArray finishChunk(const AnswerHeader& header, const GenerationOutcome& outcome,
                       const QString& document) {
    QJsonObject body = envelope(header, true);
    body.insert(QStringLiteral("choices"),
                QJsonArray{choice(header, {}, true, outcome.finishReason, false)});
    if (!document.isEmpty()) body.insert(QStringLiteral("hipreader"), citations(outcome, document));
    return compact(body);
}

QByteArray usageChunk(const AnswerHeader& header, const GenerationOutcome& outcome) {
    QJsonObject body = envelope(header, true);
    body.insert(QStringLiteral("choices"), QJsonArray{});
    body.insert(QStringLiteral("usage"), usage(outcome));
    return compact(body);
}

QByteArray serverSentEvent(const QByteArray& json) {
    return "data: " + json + "\n\n";
}

} // namespace serve
