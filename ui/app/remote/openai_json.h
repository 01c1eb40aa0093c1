#pragma once
// OpenAI's JSON as the remote engine writes and reads it: the chat request, the model list (with
// the context length where the server reports one), streamed chunks and error bodies. Servers
// differ in what they add; everything here is read leniently and never trusted to be there.

#include "bridge/bridge_types.h"

#include <hip/generation.h>

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

namespace hip::ui {

struct ServerModel {
    QString id;
    // 0: not reported. hipreader-cli serve: hipreader.context_length; vLLM and SGLang:
    // max_model_len; others: context_length or max_context_length.
    qint64 contextTokens = 0;
};

// GET /v1/models; nullopt when the body is not OpenAI's model list.
std::optional<std::vector<ServerModel>> parseModelList(const QByteArray& body);
// llama.cpp's GET /props: the context its slots have (default_generation_settings.n_ctx, or n_ctx
// at the top in older versions); 0 when the body has none.
qint64 parseServerProps(const QByteArray& body);

// A streamed request for the chat: model, messages, max_tokens and the sampling options. Options
// beyond OpenAI's own (top_k, min_p, repetition_penalty, which vLLM, SGLang, llama.cpp and
// hipreader-cli serve take) are sent only when they are not at their neutral values, so a strict
// server is not given fields it refuses unless the user asked for them.
QByteArray chatRequestBody(const QString& model, const ChatTurns& messages,
                           const hip::GenerateOptions& options);

// One event of a streamed answer (or a whole answer, for a server that does not stream).
struct AnswerPiece {
    QString text;
    QString finishReason; // "stop", "length", ...; empty until the last piece
    QString error;        // an error the server put in the stream; the event is otherwise empty
    bool malformed = false;
};
AnswerPiece parseStreamChunk(const QByteArray& data);
AnswerPiece parseWholeAnswer(const QByteArray& body);

hip::StopReason stopReasonOf(const QString& finishReason);

// The message of an error body: {"error": {"message"}} (OpenAI), {"error": "..."},
// {"message": ...} or {"detail": ...}; else the body itself, shortened; empty for an empty body.
QString errorMessageOf(const QByteArray& body);

} // namespace hip::ui
