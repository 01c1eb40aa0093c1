#include "openai_request.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QSet>

#include <cmath>
#include <limits>

namespace serve {
namespace {

ApiError invalid(const QString& param, const QString& message, const QString& code = {}) {
    return ApiError{400, message, QStringLiteral("invalid_request_error"), param, code};
}

// The fields of one request object, taken one by one; the first problem is kept.
class Fields {
public:
    Fields(QJsonObject object, QString prefix)
        : object_(std::move(object)), prefix_(std::move(prefix)) {}

    const std::optional<ApiError>& error() const { return error_; }
    void fail(const QString& name, const QString& message, const QString& code = {}) {
        if (!error_) error_ = invalid(path(name), message, code);
    }
    QString path(const QString& name) const {
        return prefix_.isEmpty() ? name : prefix_ + '.' + name;
    }

    // Missing and null are the same: the default applies.
    bool present(const QString& name) {
        seen_.insert(name);
        return object_.contains(name) && !object_.value(name).isNull();
    }
    QJsonValue value(const QString& name) const { return object_.value(name); }

    std::optional<QString> string(const QString& name) {
        if (!present(name)) return std::nullopt;
        if (!value(name).isString()) {
            fail(name, path(name) + " must be a string");
            return std::nullopt;
        }
        return value(name).toString();
    }
    std::optional<bool> boolean(const QString& name) {
        if (!present(name)) return std::nullopt;
        if (!value(name).isBool()) {
            fail(name, path(name) + " must be true or false");
            return std::nullopt;
        }
        return value(name).toBool();
    }
    std::optional<double> number(const QString& name, double low, double high) {
        if (!present(name)) return std::nullopt;
        const double v = value(name).toDouble(std::numeric_limits<double>::quiet_NaN());
        if (!value(name).isDouble() || !std::isfinite(v) || v < low || v > high) {
            fail(name, path(name) + " must be a number from " + QString::number(low) + " to " +
                           QString::number(high));
            return std::nullopt;
        }
        return v;
    }
    std::optional<qint64> integer(const QString& name, qint64 low, qint64 high) {
        if (!present(name)) return std::nullopt;
        const double v = value(name).toDouble(std::numeric_limits<double>::quiet_NaN());
        if (!value(name).isDouble() || !std::isfinite(v) || std::floor(v) != v || v < double(low) ||
            v > double(high)) {
            fail(name, path(name) + " must be a whole number from " + QString::number(low) +
                           " to " + QString::number(high));
            return std::nullopt;
        }
        return qint64(v);
    }
    // A field this server accepts only at its neutral value (what OpenAI does by default).
    void onlyDefault(const QString& name, const QJsonValue& neutral, const QString& what) {
        if (present(name) && value(name) != neutral)
            fail(name, path(name) + " is not supported: " + what,
                 QStringLiteral("unsupported_parameter"));
    }
    // Called after every known field was looked at: anything else is refused.
    void rejectUnknown() {
        for (auto it = object_.begin(); it != object_.end(); ++it)
            if (!seen_.contains(it.key())) {
                fail(it.key(), "Unrecognized request argument supplied: " + path(it.key()),
                     QStringLiteral("unknown_parameter"));
                return;
            }
    }

private:
    QJsonObject object_;
    QString prefix_;
    QSet<QString> seen_;
    std::optional<ApiError> error_;
};

std::optional<QJsonObject> parseObject(const QByteArray& body, ApiError& error) {
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        error = invalid({},
                        "The body is not valid JSON: " + parseError.errorString() + " at byte " +
                            QString::number(parseError.offset),
                        QStringLiteral("invalid_json"));
        return std::nullopt;
    }
    if (!document.isObject()) {
        error = invalid({}, QStringLiteral("The body must be a JSON object"),
                        QStringLiteral("invalid_json"));
        return std::nullopt;
    }
    return document.object();
}

// Fields both endpoints share: model, sampling, stop, streaming.
void readCommon(Fields& fields, GenerationRequest& request, const RequestLimits& limits) {
    if (auto model = fields.string(QStringLiteral("model")))
        request.model = *model;
    else if (!fields.error())
        fields.fail(QStringLiteral("model"),
                    QStringLiteral("model is required (see GET /v1/models)"),
                    QStringLiteral("missing_required_parameter"));

    hip::SamplerOptions& sampler = request.options.sampler;
    if (auto t = fields.number(QStringLiteral("temperature"), 0, 2))
        sampler.temperature = float(*t);
    if (auto p = fields.number(QStringLiteral("top_p"), 0, 1)) sampler.topP = float(*p);
    if (auto k = fields.integer(QStringLiteral("top_k"), 0, 1'000'000)) sampler.topK = int32_t(*k);
    if (auto p = fields.number(QStringLiteral("min_p"), 0, 1)) sampler.minP = float(*p);
    if (auto r = fields.number(QStringLiteral("repetition_penalty"), 0.01, 10))
        sampler.repetitionPenalty = float(*r);
    if (auto seed = fields.integer(QStringLiteral("seed"), std::numeric_limits<qint64>::min() / 2,
                                   std::numeric_limits<qint64>::max() / 2))
        sampler.seed = uint64_t(*seed);

    if (auto tokens = fields.integer(QStringLiteral("max_tokens"), 1, limits.maxTokens))
        request.options.maxTokens = int32_t(*tokens);

    if (fields.present(QStringLiteral("stop"))) {
        const QJsonValue stop = fields.value(QStringLiteral("stop"));
        QJsonArray list = stop.isArray() ? stop.toArray() : QJsonArray{stop};
        if (list.size() > limits.maxStopSequences)
            fields.fail(QStringLiteral("stop"), "stop takes at most " +
                                                    QString::number(limits.maxStopSequences) +
                                                    " sequences");
        for (const QJsonValue item : list) {
            const QByteArray text = item.toString().toUtf8();
            if (!item.isString() || text.isEmpty() || text.size() > limits.maxStopBytes) {
                fields.fail(QStringLiteral("stop"),
                            "stop must be a string or an array of strings, each 1 to " +
                                QString::number(limits.maxStopBytes) + " bytes");
                break;
            }
            request.stop.push_back(text.toStdString());
        }
    }

    request.stream = fields.boolean(QStringLiteral("stream")).value_or(false);
    if (fields.present(QStringLiteral("stream_options"))) {
        const QJsonValue options = fields.value(QStringLiteral("stream_options"));
        if (!options.isObject()) {
            fields.fail(QStringLiteral("stream_options"),
                        QStringLiteral("stream_options must be an object"));
        } else if (!request.stream) {
            fields.fail(QStringLiteral("stream_options"),
                        QStringLiteral("stream_options is only allowed when stream is true"));
        } else {
            Fields inner(options.toObject(), QStringLiteral("stream_options"));
            request.streamUsage = inner.boolean(QStringLiteral("include_usage")).value_or(false);
            inner.rejectUnknown();
            if (inner.error())
                fields.fail(inner.error()->param, inner.error()->message, inner.error()->code);
        }
    }

    fields.onlyDefault(QStringLiteral("n"), 1, QStringLiteral("one answer per request"));
    fields.onlyDefault(QStringLiteral("frequency_penalty"), 0,
                       QStringLiteral("use repetition_penalty"));
    fields.onlyDefault(QStringLiteral("presence_penalty"), 0,
                       QStringLiteral("use repetition_penalty"));
    fields.string(
        QStringLiteral("user")); // an end-user id for abuse tracking: nothing to track here
}

// Chat message content: a string, or an array of text parts.
std::optional<std::string> messageContent(const QJsonValue& content, const QString& path,
                                          ApiError& error) {
    if (content.isString()) return content.toString().toStdString();
    if (!content.isArray()) {
        error = invalid(path, path + " must be a string or an array of text parts");
        return std::nullopt;
    }
    std::string text;
    for (const QJsonValue part : content.toArray()) {
        const QJsonObject object = part.toObject();
        if (!part.isObject() || object.value(QStringLiteral("type")) != QStringLiteral("text") ||
            !object.value(QStringLiteral("text")).isString() || object.size() != 2) {
            error = invalid(path,
                            path + ": only parts {\"type\": \"text\", \"text\": ...} are supported",
                            QStringLiteral("unsupported_content"));
            return std::nullopt;
        }
        text += object.value(QStringLiteral("text")).toString().toStdString();
    }
    return text;
}

std::optional<std::vector<hip::ChatTurn>> readMessages(Fields& fields,
                                                       const RequestLimits& limits) {
    const QString name = QStringLiteral("messages");
    if (!fields.present(name)) {
        fields.fail(name, QStringLiteral("messages is required"),
                    QStringLiteral("missing_required_parameter"));
        return std::nullopt;
    }
    const QJsonValue value = fields.value(name);
    if (!value.isArray() || value.toArray().isEmpty() ||
        value.toArray().size() > limits.maxMessages) {
        fields.fail(name, "messages must be an array of 1 to " +
                              QString::number(limits.maxMessages) + " messages");
        return std::nullopt;
    }
    std::vector<hip::ChatTurn> turns;
    const QJsonArray array = value.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString path = "messages[" + QString::number(i) + "]";
        if (!array[i].isObject()) {
            fields.fail(path, path + " must be an object");
            return std::nullopt;
        }
        Fields message(array[i].toObject(), path);
        const auto role = message.string(QStringLiteral("role"));
        if (!message.error() && (!role || (*role != u"system" && *role != u"developer" &&
                                           *role != u"user" && *role != u"assistant")))
            message.fail(QStringLiteral("role"),
                         path +
                             ".role must be \"system\", \"developer\", \"user\" or \"assistant\"");
        ApiError contentError;
        std::optional<std::string> content;
        if (!message.present(QStringLiteral("content")))
            message.fail(QStringLiteral("content"), path + ".content is required");
        else if (!(content = messageContent(message.value(QStringLiteral("content")),
                                            path + ".content", contentError)))
            message.fail(QStringLiteral("content"), contentError.message, contentError.code);
        message.string(
            QStringLiteral("name")); // a participant's name: the template has no place for it
        message.rejectUnknown();
        if (message.error()) {
            fields.fail(message.error()->param, message.error()->message, message.error()->code);
            return std::nullopt;
        }
        // "developer" is the newer name OpenAI gives system instructions.
        turns.push_back({*role == u"user"        ? "user"
                         : *role == u"assistant" ? "assistant"
                                                 : "system",
                         *content});
    }
    if (turns.back().role != "user") {
        fields.fail(name, QStringLiteral("the last message must be the user's"));
        return std::nullopt;
    }
    return turns;
}

void readExtension(Fields& fields, GenerationRequest& request) {
    const QString name = QStringLiteral("hipreader");
    if (!fields.present(name)) return;
    if (!fields.value(name).isObject()) {
        fields.fail(name, QStringLiteral("hipreader must be an object"));
        return;
    }
    Fields extension(fields.value(name).toObject(), name);
    request.document = extension.string(QStringLiteral("document")).value_or(QString());
    request.citedPages = int(extension.integer(QStringLiteral("cited_pages"), 0, 50).value_or(0));
    extension.rejectUnknown();
    if (!extension.error() && request.citedPages > 0 && request.document.isEmpty())
        extension.fail(QStringLiteral("cited_pages"),
                       QStringLiteral("hipreader.cited_pages needs hipreader.document"));
    if (extension.error())
        fields.fail(extension.error()->param, extension.error()->message, extension.error()->code);
}

ParsedRequest finish(Fields& fields, GenerationRequest request) {
    fields.rejectUnknown();
    if (fields.error()) return *fields.error();
    return request;
}

} // namespace

ParsedRequest parseChatRequest(const QByteArray& body, const RequestLimits& limits) {
    ApiError error;
    const auto object = parseObject(body, error);
    if (!object) return error;
    Fields fields(*object, {});
    GenerationRequest request;
    request.kind = GenerationRequest::Kind::Chat;
    request.options.maxTokens = std::min(request.options.maxTokens, limits.maxTokens);
    readCommon(fields, request, limits);
    if (auto tokens = fields.integer(QStringLiteral("max_completion_tokens"), 1, limits.maxTokens))
        request.options.maxTokens = int32_t(*tokens);
    if (auto messages = readMessages(fields, limits)) request.messages = std::move(*messages);
    fields.onlyDefault(QStringLiteral("logprobs"), false, QStringLiteral("no log probabilities"));
    readExtension(fields, request);
    return finish(fields, std::move(request));
}

ParsedRequest parseCompletionRequest(const QByteArray& body, const RequestLimits& limits) {
    ApiError error;
    const auto object = parseObject(body, error);
    if (!object) return error;
    Fields fields(*object, {});
    GenerationRequest request;
    request.kind = GenerationRequest::Kind::Completion;
    request.options.maxTokens = std::min(16, limits.maxTokens); // OpenAI's default for completions
    readCommon(fields, request, limits);
    const QString name = QStringLiteral("prompt");
    if (!fields.present(name)) {
        fields.fail(name, QStringLiteral("prompt is required"),
                    QStringLiteral("missing_required_parameter"));
    } else {
        QJsonValue prompt = fields.value(name);
        if (prompt.isArray() && prompt.toArray().size() == 1) prompt = prompt.toArray().first();
        if (!prompt.isString())
            fields.fail(name,
                        QStringLiteral("prompt must be a string (or an array of one string)"));
        else
            request.prompt = prompt.toString().toStdString();
    }
    fields.onlyDefault(QStringLiteral("echo"), false, QStringLiteral("the prompt is not echoed"));
    fields.onlyDefault(QStringLiteral("best_of"), 1, QStringLiteral("one answer per request"));
    fields.onlyDefault(QStringLiteral("logprobs"), 0, QStringLiteral("no log probabilities"));
    fields.onlyDefault(QStringLiteral("suffix"), QString(), QStringLiteral("no insertion"));
    return finish(fields, std::move(request));
}

} // namespace serve
