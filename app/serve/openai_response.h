#pragma once
// The JSON bodies the server answers with, shaped as OpenAI's: errors, the model list, whole
// completions and the chunks of a streamed one. The "hipreader" objects are this server's
// extensions (the books offered, the pages an answer attended to); clients ignore them.

#include "openai_request.h"
#include "served_model.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace serve {

QByteArray errorBody(const ApiError& error);
QByteArray modelListBody(const ServedModel& model, qint64 created);
QJsonObject modelObject(const ServedModel& model, qint64 created);

// One answer's identity, shared by all its chunks.
struct AnswerHeader {
    GenerationRequest::Kind kind = GenerationRequest::Kind::Chat;
    QString id; // "chatcmpl-…" or "cmpl-…"
    qint64 created = 0;
    QString model;
};

QByteArray completionBody(const AnswerHeader& header, const GenerationOutcome& outcome,
                          const QString& document);
// A streamed piece of text (the first chat chunk also carries the assistant role).
QByteArray textChunk(const AnswerHeader& header, const std::string& text, bool first);
// The last chunk: the finish reason (and cited pages); usage as its own chunk when asked for.
QByteArray finishChunk(const AnswerHeader& header, const GenerationOutcome& outcome,
                       const QString& document);
QByteArray usageChunk(const AnswerHeader& header, const GenerationOutcome& outcome);

// Frames a JSON object as one server-sent event.
QByteArray serverSentEvent(const QByteArray& json);

} // namespace serve
