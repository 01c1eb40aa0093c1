#include "openai_server.h"

#include "openai_response.h"

#include "handoff/handoff.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTcpSocket>

#include <chrono>

namespace serve {
namespace {

using Status = QHttpServerResponder::StatusCode;

const QByteArray kJson = QByteArrayLiteral("application/json");

QString methodName(QHttpServerRequest::Method method) {
    switch (method) {
    case QHttpServerRequest::Method::Get:
        return QStringLiteral("GET");
    case QHttpServerRequest::Method::Post:
        return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put:
        return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete:
        return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Head:
        return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Options:
        return QStringLiteral("OPTIONS");
    case QHttpServerRequest::Method::Patch:
        return QStringLiteral("PATCH");
    default:
        return QStringLiteral("?");
    }
}

bool connected(const QPointer<QTcpSocket>& socket) {
    return socket && socket->state() == QAbstractSocket::ConnectedState;
}

// Compares without stopping at the first difference, so timing does not reveal the key.
bool sameSecret(const QByteArray& given, const QByteArray& expected) {
    if (given.size() != expected.size()) return false;
    char difference = 0;
    for (qsizetype i = 0; i < given.size(); ++i)
        difference = char(difference | (given[i] ^ expected[i]));
    return difference == 0;
}

// Qt HttpServer 6.4 keeps every connection open; a client that asked to close it after the
// answer ("Connection: close") waits for that.
bool wantsClose(const QHttpServerRequest& request) {
    return request.value("connection").trimmed().compare("close", Qt::CaseInsensitive) == 0;
}

void closeIfAsked(QTcpSocket* socket, bool close) {
    if (close && socket && socket->state() == QAbstractSocket::ConnectedState)
        socket->disconnectFromHost();
}

QString answerId(GenerationRequest::Kind kind) {
    const quint64 random = QRandomGenerator::global()->generate64();
    return (kind == GenerationRequest::Kind::Chat ? QStringLiteral("chatcmpl-")
                                                  : QStringLiteral("cmpl-")) +
           QString::number(random, 16);
}

} // namespace

// One request from its arrival to its last byte, on the event loop's thread.
struct OpenAiServer::Exchange {
    explicit Exchange(QHttpServerResponder&& r)
        : responder(std::move(r)), socket(responder.socket()) {}

    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
    QMetaObject::Connection onDisconnect;
    hip::CancelToken cancel;
    GenerationRequest request;
    AnswerHeader header;
    QString path;
    QElapsedTimer since; // from the request's arrival
    bool closeAfter = false;
    double firstSentSeconds = -1;
    bool streamStarted = false;
};

OpenAiServer::OpenAiServer(ServedModel& model, ServerOptions options, QObject* parent)
    : QObject(parent), model_(model), options_(std::move(options)),
      started_(QDateTime::currentSecsSinceEpoch()), http_(std::make_unique<QHttpServer>()),
      queue_(std::make_unique<RequestQueue>(options_.queueCapacity)) {
    http_->setMissingHandler(
        [this](const QHttpServerRequest& request, QHttpServerResponder&& responder) {
            handle(request, std::move(responder));
        });
}

OpenAiServer::~OpenAiServer() {
    for (auto& [id, exchange] : exchanges_)
        exchange->cancel.cancel();
    queue_.reset();
}

bool OpenAiServer::listen(QString* error) {
    tcp_ = new GuardedTcpServer(
        options_.connection,
        [](int status, const QString& message) {
            return errorBody(
                ApiError{status, message, QStringLiteral("invalid_request_error"), {}, {}});
        },
        http_.get());
    if (!tcp_->listen(options_.address, options_.port)) {
        if (error)
            *error = "cannot listen on " + options_.address.toString() + ":" +
                     QString::number(options_.port) + ": " + tcp_->errorString();
        return false;
    }
    http_->bind(tcp_);
    return true;
}

quint16 OpenAiServer::port() const {
    return tcp_ ? tcp_->serverPort() : 0;
}

void OpenAiServer::handle(const QHttpServerRequest& request, QHttpServerResponder&& responder) {
    const QString path = request.url().path();
    const QHttpServerRequest::Method method = request.method();
    const bool close = wantsClose(request);
    auto refuse = [&](const ApiError& error) {
        responder.write(errorBody(error), kJson, Status(error.status));
        closeIfAsked(responder.socket(), close);
        if (options_.log)
            options_.log(methodName(method) + ' ' + path + ' ' + QString::number(error.status) +
                         ": " + error.message);
    };
    QTcpSocket* socket = responder.socket();
    if (GuardedTcpServer::isResponding(socket)) {
        // A second request on a connection whose answer is not out yet (HTTP pipelining): the two
        // answers would interleave, so the connection is closed, which cancels the first.
        socket->abort();
        return;
    }

    if (!options_.apiKey.isEmpty() &&
        !sameSecret(request.value("authorization"), "Bearer " + options_.apiKey.toUtf8())) {
        const bool none = request.value("authorization").isEmpty();
        refuse(
            {401,
             none ? QStringLiteral("No API key provided: send it as \"Authorization: Bearer KEY\"")
                  : QStringLiteral("Incorrect API key provided"),
             QStringLiteral("invalid_request_error"),
             {},
             QStringLiteral("invalid_api_key")});
        return;
    }

    const QString modelPrefix = QStringLiteral("/v1/models/");
    const bool modelsPath = path == u"/v1/models" || path.startsWith(modelPrefix);
    const bool chat = path == u"/v1/chat/completions";
    const bool completion = path == u"/v1/completions";
    if (!modelsPath && !chat && !completion) {
        refuse({404,
                "Unknown path " + path +
                    " (this server answers /v1/models, "
                    "/v1/chat/completions and /v1/completions)",
                QStringLiteral("invalid_request_error"),
                {},
                QStringLiteral("unknown_url")});
        return;
    }
    const auto wanted =
        modelsPath ? QHttpServerRequest::Method::Get : QHttpServerRequest::Method::Post;
    if (method != wanted) {
        refuse({405,
                path + " takes " + methodName(wanted) + " requests",
                QStringLiteral("invalid_request_error"),
                {},
                QStringLiteral("method_not_allowed")});
        return;
    }

    if (modelsPath) {
        if (path == u"/v1/models") {
            responder.write(modelListBody(model_, started_), kJson);
        } else if (path.mid(modelPrefix.size()) == model_.id()) {
            responder.write(
                QJsonDocument(modelObject(model_, started_)).toJson(QJsonDocument::Compact), kJson);
        } else {
            refuse({404, "The model '" + path.mid(modelPrefix.size()) + "' does not exist",
                    QStringLiteral("invalid_request_error"), QStringLiteral("model"),
                    QStringLiteral("model_not_found")});
            return;
        }
        closeIfAsked(responder.socket(), close);
        return;
    }

    ParsedRequest parsed = chat ? parseChatRequest(request.body(), options_.request)
                                : parseCompletionRequest(request.body(), options_.request);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        refuse(*error);
        return;
    }
    GenerationRequest& generation = std::get<GenerationRequest>(parsed);
    if (generation.model != model_.id()) {
        refuse({404,
                "The model '" + generation.model + "' does not exist; this server has '" +
                    model_.id() + "'",
                QStringLiteral("invalid_request_error"), QStringLiteral("model"),
                QStringLiteral("model_not_found")});
        return;
    }
    if (!generation.document.isEmpty() && !model_.document(generation.document)) {
        refuse({404,
                "No document '" + generation.document +
                    "': GET /v1/models lists the books this server offers",
                QStringLiteral("invalid_request_error"), QStringLiteral("hipreader.document"),
                QStringLiteral("document_not_found")});
        return;
    }
    enqueue(std::move(generation), std::move(responder), path, close);
}

void OpenAiServer::enqueue(GenerationRequest request, QHttpServerResponder&& responder,
                           const QString& path, bool closeAfter) {
    const quint64 id = nextId_++;
    auto exchange = std::make_unique<Exchange>(std::move(responder));
    exchange->since.start();
    exchange->request = request;
    exchange->path = path;
    exchange->closeAfter = closeAfter;
    exchange->header = {request.kind, answerId(request.kind), QDateTime::currentSecsSinceEpoch(),
                        model_.id()};
    const hip::CancelToken cancel = exchange->cancel;
    exchange->onDisconnect =
        connect(exchange->socket, &QTcpSocket::disconnected, this, [cancel] { cancel.cancel(); });

    using Clock = std::chrono::steady_clock;
    const auto arrived = Clock::now();
    const bool queued = queue_->push([this, id, request = std::move(request), cancel, arrived] {
        const double waited = std::chrono::duration<double>(Clock::now() - arrived).count();
        GenerationOutcome outcome;
        if (cancel.isCancelled())
            outcome.cancelled = true;
        else
            outcome = model_.generate(
                request,
                [this, id](std::string_view text) {
                    hip::handoff::queueCall(
                        this, [this, id, piece = std::string(text)] { onText(id, piece); });
                },
                cancel);
        hip::handoff::queueCall(this, [this, id, outcome = std::move(outcome), waited] {
            onFinished(id, outcome, waited);
        });
    });
    if (!queued) {
        disconnect(exchange->onDisconnect);
        const ApiError busy{429,
                            "The server has " + QString::number(options_.queueCapacity) +
                                " requests waiting; try again later",
                            QStringLiteral("server_error"),
                            {},
                            QStringLiteral("queue_full")};
        exchange->responder.write(errorBody(busy), kJson, Status::TooManyRequests);
        logAnswer(*exchange, 429, nullptr, 0);
        closeIfAsked(exchange->socket, closeAfter);
        return;
    }
    GuardedTcpServer::setResponding(exchange->socket, true);
    exchanges_.emplace(id, std::move(exchange));
}

bool OpenAiServer::beginStream(Exchange& exchange) {
    if (!connected(exchange.socket)) return false;
    if (!exchange.streamStarted) {
        exchange.responder.writeStatusLine(Status::Ok);
        exchange.responder.writeHeaders({{"Content-Type", "text/event-stream"},
                                         {"Cache-Control", "no-cache"},
                                         {"Transfer-Encoding", "chunked"}});
        exchange.streamStarted = true;
    }
    return true;
}

namespace {

// One piece of a chunked body (the stream's length is not known in advance).
QByteArray chunk(const QByteArray& data) {
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

} // namespace

void OpenAiServer::onText(quint64 id, const std::string& text) {
    const auto found = exchanges_.find(id);
    if (found == exchanges_.end() || !found->second->request.stream) return;
    Exchange& exchange = *found->second;
    if (!beginStream(exchange)) return;
    const bool first = exchange.firstSentSeconds < 0;
    if (first) exchange.firstSentSeconds = double(exchange.since.nsecsElapsed()) * 1e-9;
    exchange.responder.writeBody(chunk(serverSentEvent(textChunk(exchange.header, text, first))));
    exchange.socket->flush();
}

void OpenAiServer::onFinished(quint64 id, const GenerationOutcome& outcome, double waitedSeconds) {
    const auto found = exchanges_.find(id);
    if (found == exchanges_.end()) return;
    std::unique_ptr<Exchange> exchange = std::move(found->second);
    exchanges_.erase(found);
    disconnect(exchange->onDisconnect);
    if (!connected(exchange->socket)) {
        logAnswer(*exchange, 499, &outcome, waitedSeconds);
        return;
    }
    GuardedTcpServer::setResponding(exchange->socket, false);
    const QString document = exchange->request.document;
    if (outcome.cancelled) {
        exchange->socket->abort(); // only the server's shutdown cancels a connected client
        return;
    }
    if (outcome.error && !exchange->streamStarted) {
        exchange->responder.write(errorBody(*outcome.error), kJson, Status(outcome.error->status));
        logAnswer(*exchange, outcome.error->status, &outcome, waitedSeconds);
        closeIfAsked(exchange->socket, exchange->closeAfter);
        return;
    }
    if (!exchange->request.stream) {
        exchange->responder.write(completionBody(exchange->header, outcome, document), kJson);
        logAnswer(*exchange, 200, &outcome, waitedSeconds);
        closeIfAsked(exchange->socket, exchange->closeAfter);
        return;
    }
    beginStream(*exchange);
    QByteArray tail;
    if (outcome.error) {
        tail += serverSentEvent(errorBody(*outcome.error));
    } else {
        tail += serverSentEvent(finishChunk(exchange->header, outcome, document));
        if (exchange->request.streamUsage)
            tail += serverSentEvent(usageChunk(exchange->header, outcome));
    }
    tail += "data: [DONE]\n\n";
    exchange->responder.writeBody(chunk(tail) + chunk({}));
    exchange->socket->flush();
    logAnswer(*exchange, outcome.error ? outcome.error->status : 200, &outcome, waitedSeconds);
    closeIfAsked(exchange->socket, exchange->closeAfter);
}

void OpenAiServer::logAnswer(const Exchange& exchange, int status, const GenerationOutcome* outcome,
                             double waitedSeconds) {
    if (!options_.log) return;
    QString line =
        "POST " + exchange.path + ' ' +
        (status != 499                   ? QString::number(status)
         : outcome && outcome->cancelled ? QStringLiteral("client gone, cancelled")
                                         : QStringLiteral("client gone, answer dropped"));
    if (outcome && !outcome->error && !outcome->cancelled) {
        line +=
            QStringLiteral(" %1: %2+%3 tokens, waited %4 ms")
                .arg(exchange.request.stream ? QStringLiteral("streamed") : QStringLiteral("whole"))
                .arg(outcome->promptTokens)
                .arg(outcome->completionTokens)
                .arg(waitedSeconds * 1e3, 0, 'f', 1);
        if (exchange.firstSentSeconds >= 0 && outcome->firstTextSeconds >= 0)
            line += QStringLiteral(", first text after %1 ms (engine %2 ms)")
                        .arg(exchange.firstSentSeconds * 1e3, 0, 'f', 2)
                        .arg((waitedSeconds + outcome->firstTextSeconds) * 1e3, 0, 'f', 2);
        line += QStringLiteral(", total %1 ms")
                    .arg(double(exchange.since.nsecsElapsed()) * 1e-6, 0, 'f', 1);
    } else if (outcome && outcome->error) {
        line += ": " + outcome->error->message;
    }
    options_.log(line);
}

} // namespace serve
