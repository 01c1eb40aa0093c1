#pragma once
// The HTTP side of `hipreader-cli serve`: OpenAI's /v1/models, /v1/chat/completions and
// /v1/completions over Qt HttpServer, answers streamed as server-sent events or sent whole.
// Requests are checked (API key, JSON, fields, model, book) on the event loop's thread and
// refused there with OpenAI-shaped errors; the work itself waits in the request queue and runs
// on its thread, which hands text back to the event loop as it comes. A client that
// disconnects cancels its request, waiting or running.

#include "guarded_tcp_server.h"
#include "openai_request.h"
#include "request_queue.h"
#include "served_model.h"

#include <QHostAddress>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <map>
#include <memory>

class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponder;
class QTcpSocket;

namespace serve {

struct ServerOptions {
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 8080; // 0 = any free port
    QString apiKey;      // empty = no key needed
    RequestLimits request;
    ConnectionLimits connection;
    size_t queueCapacity = 64;
    // One line per answered request (method, path, status, tokens, timings); empty = silent.
    std::function<void(const QString&)> log;
};

class OpenAiServer : public QObject {
    Q_OBJECT
public:
    OpenAiServer(ServedModel& model, ServerOptions options, QObject* parent = nullptr);
    // Cancels every request and waits for the one running.
    ~OpenAiServer() override;

    // Starts listening; on failure says why in `error`.
    bool listen(QString* error);
    quint16 port() const;

private:
    struct Exchange;

    void handle(const QHttpServerRequest& request, QHttpServerResponder&& responder);
    void enqueue(GenerationRequest request, QHttpServerResponder&& responder, const QString& path,
                 bool closeAfter);
    void onText(quint64 id, const std::string& text);
    void onFinished(quint64 id, const GenerationOutcome& outcome, double waitedSeconds);
    bool beginStream(Exchange& exchange);
    void logAnswer(const Exchange& exchange, int status, const GenerationOutcome* outcome,
                   double waitedSeconds);

    ServedModel& model_;
    ServerOptions options_;
    qint64 started_;
    std::unique_ptr<QHttpServer> http_;
    QPointer<GuardedTcpServer> tcp_;
    quint64 nextId_ = 1;
    std::map<quint64, std::unique_ptr<Exchange>> exchanges_;
    // Last, so it stops (and its thread stops calling back) before anything above goes.
    std::unique_ptr<RequestQueue> queue_;
};

} // namespace serve
