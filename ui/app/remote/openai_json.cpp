#include "remote/openai_json.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace hip::ui {
namespace {

std::optional<QJsonObject> objectOf(const QByteArray& body) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) return std::nullopt;
    return document.object();
}

// A positive whole number, or 0.
qint64 positive(const QJsonValue& value) {
    const double number = value.toDouble(0);
    return number >= 1 && number < 1e12 ? qint64(number) : 0;
}

qint64 contextOf(const QJsonObject& model) {
    for (const QJsonValue& value : {model.value(QStringLiteral("hipreader"))
                                        .toObject()
                                        .value(QStringLiteral("context_length")),
                                    model.value(QStringLiteral("max_model_len")),
                                    model.value(QStringLiteral("context_length")),
                                    model.value(QStringLiteral("max_context_length"))})
        if (const qint64 tokens = positive(value)) return tokens;
    return 0;
}

AnswerPiece pieceOf(const QJsonObject& body, const QString& messageKey) {
    AnswerPiece piece;
    if (body.contains(QStringLiteral("error"))) {
        piece.error = errorMessageOf(QJsonDocument(body).toJson(QJsonDocument::Compact));
        return piece;
    }
    const QJsonArray choices = body.value(QStringLiteral("choices")).toArray();
    if (choices.isEmpty()) return piece; // usage, or a keep-alive some servers send
    const QJsonObject choice = choices.first().toObject();
    piece.text = choice.value(messageKey).toObject().value(QStringLiteral("content")).toString();
    piece.finishReason = choice.value(QStringLiteral("finish_reason")).toString();
    return piece;
}

AnswerPiece malformed() {
    AnswerPiece piece;
    piece.malformed = true;
    return piece;
}

} // namespace

std::optional<std::vector<ServerModel>> parseModelList(const QByteArray& body) {
    const auto object = objectOf(body);
    if (!object || !object->value(QStringLiteral("data")).isArray()) return std::nullopt;
    std::vector<ServerModel> models;
    for (const QJsonValue entry : object->value(QStringLiteral("data")).toArray()) {
        const QJsonObject model = entry.toObject();
        const QString id = model.value(QStringLiteral("id")).toString();
        if (!id.isEmpty()) models.push_back({id, contextOf(model)});
    }
    return models;
}

qint64 parseServerProps(const QByteArray& body) {
    const auto object = objectOf(body);
    if (!object) return 0;
    if (const qint64 tokens = positive(object->value(QStringLiteral("default_generation_settings"))
                                           .toObject()
                                           .value(QStringLiteral("n_ctx"))))
        return tokens;
    return positive(object->value(QStringLiteral("n_ctx")));
}

QByteArray chatRequestBody(const QString& model, const ChatTurns& messages,
                           const hip::GenerateOptions& options) {
    QJsonArray turns;
    for (const hip::ChatTurn& turn : messages)
        turns.append(
            QJsonObject{{QStringLiteral("role"), QString::fromStdString(turn.role)},
                        {QStringLiteral("content"), QString::fromStdString(turn.content)}});
    const hip::SamplerOptions& s = options.sampler;
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("messages"), turns},
                     {QStringLiteral("stream"), true},
                     {QStringLiteral("max_tokens"), options.maxTokens},
                     {QStringLiteral("temperature"), double(s.temperature)},
                     {QStringLiteral("top_p"), double(s.topP)},
                     // 31 bits: every server takes them, and JSON numbers keep them exact.
                     {QStringLiteral("seed"), qint64(s.seed & 0x7fffffff)}};
    if (s.topK > 0) body.insert(QStringLiteral("top_k"), s.topK);
    if (s.minP > 0) body.insert(QStringLiteral("min_p"), double(s.minP));
    if (s.repetitionPenalty != 1.0f)
        body.insert(QStringLiteral("repetition_penalty"), double(s.repetitionPenalty));
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

AnswerPiece parseStreamChunk(const QByteArray& data) {
    const auto object = objectOf(data);
    if (!object) return malformed();
    return pieceOf(*object, QStringLiteral("delta"));
}

AnswerPiece parseWholeAnswer(const QByteArray& body) {
    const auto object = objectOf(body);
    if (!object) return malformed();
    return pieceOf(*object, QStringLiteral("message"));
}

hip::StopReason stopReasonOf(const QString& finishReason) {
    if (finishReason == u"length") return hip::StopReason::MaxTokens;
    return hip::StopReason::EndOfTurn;
}

QString errorMessageOf(const QByteArray& body) {
    constexpr qsizetype kMaxChars = 300;
    if (const auto object = objectOf(body)) {
        const QJsonValue error = object->value(QStringLiteral("error"));
        for (const QJsonValue& value :
             {error.toObject().value(QStringLiteral("message")), error,
              object->value(QStringLiteral("message")), object->value(QStringLiteral("detail"))})
            if (value.isString() && !value.toString().isEmpty()) return value.toString();
    }
    const QString text = QString::fromUtf8(body).simplified();
    return text.size() > kMaxChars ? text.left(kMaxChars) + QChar(0x2026) : text;
}

} // namespace hip::ui
