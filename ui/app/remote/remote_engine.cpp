#include "remote/remote_engine.h"

#include "remote/context_fit.h"

#include <hip/session.h>

#include <QNetworkReply>
#include <QNetworkRequest>

#include <utility>

namespace hip::ui {
namespace {

// What is kept of a body that is not an event stream (an error, or a whole answer).
constexpr qsizetype kMaxBodyBytes = 4 << 20;

bool isEventStream(const QNetworkReply& reply) {
    return reply.header(QNetworkRequest::ContentTypeHeader)
        .toString()
        .startsWith(QLatin1String("text/event-stream"), Qt::CaseInsensitive);
}

int httpStatus(const QNetworkReply& reply) {
    return reply.attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

// Ends a reply at once, without its finished() or anything else reaching `engine`. Only the
// engine's connections go: Qt's own carry the abort to the connection, which then closes.
void drop(QNetworkReply* reply, const QObject* engine) {
    if (!reply) return;
    reply->disconnect(engine);
    reply->abort();
    reply->deleteLater();
}

} // namespace

RemoteEngine::RemoteEngine(RemoteOptions options, QObject* parent)
    : AnswerEngine(parent), options_(std::move(options)) {
    connect(&answerText_, &TextCoalescer::text, this, &RemoteEngine::answerText);
}

RemoteEngine::~RemoteEngine() {
    // No signal may reach a half-destroyed engine.
    for (QNetworkReply* reply : {models_.data(), props_.data(), answer_.data()})
        drop(reply, this);
}

QString RemoteEngine::address() const {
    return options_.baseUrl.toDisplayString(QUrl::RemoveUserInfo);
}

QString RemoteEngine::documentTitle() const {
    return document_ ? document_->title : QString();
}

// `path` under the API's base ("/models"), or under the server's root ("/props", llama.cpp's
// own endpoint beside its /v1).
QUrl RemoteEngine::endpoint(const QString& path, bool underApi) const {
    QUrl url = options_.baseUrl;
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    if (!underApi && base.endsWith(QLatin1String("/v1"))) base.chop(3);
    url.setPath(base + path);
    return url;
}

QNetworkRequest RemoteEngine::request(const QString& path, bool underApi) const {
    QNetworkRequest request(endpoint(path, underApi));
    request.setTransferTimeout(options_.timeoutSeconds * 1000);
    if (!options_.apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + options_.apiKey.toUtf8());
    return request;
}

void RemoteEngine::checkServer() {
    if (models_ || props_) return; // the check under way answers
    server_.reset();
    const QUrl& url = options_.baseUrl;
    if (!url.isValid() || url.host().isEmpty() ||
        (url.scheme() != u"http" && url.scheme() != u"https")) {
        const QString message =
            tr("The remote engine's address “%1” is not an http:// or https:// URL. Set it in "
               "Settings > Engine > Remote, for example http://127.0.0.1:8080/v1.")
                .arg(url.toString());
        emit serverFailed(message);
        if (question_) failAnswer(message);
        return;
    }
    models_ = network_.get(request(QStringLiteral("/models")));
    connect(models_, &QNetworkReply::finished, this, &RemoteEngine::onModels);
}

void RemoteEngine::onModels() {
    QNetworkReply* reply = std::exchange(models_, nullptr);
    reply->deleteLater();
    const QByteArray body = reply->isOpen() ? reply->readAll() : QByteArray(); // not if aborted
    QString problem = problemOf(*reply, body, tr("a model list"));
    const auto models = problem.isEmpty() ? parseModelList(body) : std::nullopt;
    if (problem.isEmpty() && !models)
        problem = tr("The server at %1 answered GET /models with something that is not a model "
                     "list. Check the address in Settings > Engine > Remote: it usually ends in "
                     "/v1.")
                      .arg(address());
    else if (problem.isEmpty() && models->empty() && options_.model.isEmpty())
        problem = tr("The server at %1 lists no models: name the model to ask in Settings > "
                     "Engine > Remote.")
                      .arg(address());
    if (!problem.isEmpty()) {
        emit serverFailed(problem);
        if (question_) failAnswer(problem);
        return;
    }
    ServerModel chosen = options_.model.isEmpty() ? models->front() : ServerModel{options_.model};
    for (const ServerModel& listed : *models)
        if (listed.id == chosen.id) chosen.contextTokens = listed.contextTokens;
    if (options_.contextTokens > 0) chosen.contextTokens = options_.contextTokens;
    if (chosen.contextTokens > 0) {
        serverKnown(std::move(chosen));
        return;
    }
    // llama.cpp's server lists only the model's trained context; its slots' is in /props.
    listed_ = std::move(chosen);
    props_ = network_.get(request(QStringLiteral("/props"), false));
    connect(props_, &QNetworkReply::finished, this, &RemoteEngine::onProps);
}

void RemoteEngine::onProps() {
    QNetworkReply* reply = std::exchange(props_, nullptr);
    reply->deleteLater();
    ServerModel server = *std::exchange(listed_, std::nullopt);
    // A server without /props just leaves the context unknown.
    if (reply->error() == QNetworkReply::NoError)
        server.contextTokens = parseServerProps(reply->readAll());
    serverKnown(std::move(server));
}

void RemoteEngine::serverKnown(ServerModel server) {
    server_ = std::move(server);
    emit serverChecked(*server_);
    if (question_ && !answer_) send();
}

void RemoteEngine::setDocument(DocumentPtr document) {
    document_ = std::move(document);
    systemTurn_ = document_
                      ? hip::documentSystemTurn({document_->title.toStdString(), document_->text})
                      : std::string();
    documentTokens_ = document_ ? estimateTokens(systemTurn_) : 0;
    history_.clear();
    emit conversationCleared();
}

bool RemoteEngine::ask(const QString& question, const hip::GenerateOptions& options,
                       std::optional<ChatTurns> history) {
    if (question_) return false;
    if (history) history_ = std::move(*history);
    question_ = Question{question, options};
    text_.clear();
    answerText_.clear();
    // Like the local engine's, the results arrive after ask() has returned.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!question_ || answer_) return;
            if (server_)
                send();
            else
                checkServer();
        },
        Qt::QueuedConnection);
    return true;
}

void RemoteEngine::send() {
    const Question& question = *question_;
    auto fitted = fitRequest(documentTitle(), systemTurn_, history_, question.text.toStdString(),
                             question.options.maxTokens, server_->contextTokens);
    if (const QString* problem = std::get_if<QString>(&fitted)) {
        failAnswer(*problem);
        return;
    }
    QNetworkRequest post = request(QStringLiteral("/chat/completions"));
    post.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    post.setRawHeader("Accept", "text/event-stream");
    events_ = SseReader();
    body_.clear();
    finishReason_.clear();
    streamError_.clear();
    done_ = false;
    answer_ =
        network_.post(post, chatRequestBody(server_->id, std::get<FittedRequest>(fitted).messages,
                                            question.options));
    connect(answer_, &QNetworkReply::readyRead, this, &RemoteEngine::onAnswerData);
    connect(answer_, &QNetworkReply::finished, this, &RemoteEngine::onAnswerEnd);
}

void RemoteEngine::onAnswerData() {
    const QByteArray bytes = answer_->readAll();
    if (httpStatus(*answer_) == 200 && isEventStream(*answer_)) {
        readEvents(bytes);
    } else if (body_.size() < kMaxBodyBytes) {
        body_ += bytes;
    }
}

void RemoteEngine::readEvents(const QByteArray& bytes) {
    for (const QByteArray& data : events_.feed(bytes)) {
        if (data == "[DONE]") {
            done_ = true;
            continue;
        }
        const AnswerPiece piece = parseStreamChunk(data);
        if (piece.malformed || !piece.error.isEmpty()) {
            if (streamError_.isEmpty())
                streamError_ =
                    piece.malformed ? tr("a piece of the answer was not JSON") : piece.error;
            continue;
        }
        if (!piece.text.isEmpty()) {
            text_ += piece.text;
            answerText_.append(piece.text);
        }
        if (!piece.finishReason.isEmpty()) finishReason_ = piece.finishReason;
    }
}

void RemoteEngine::onAnswerEnd() {
    if (answer_->bytesAvailable() > 0) onAnswerData();
    QNetworkReply* reply = std::exchange(answer_, nullptr);
    reply->deleteLater();
    if (const QString problem = problemOf(*reply, body_, tr("chat completions"));
        !problem.isEmpty()) {
        failAnswer(problem);
        return;
    }
    if (!isEventStream(*reply)) {
        // A server that answered whole though asked to stream.
        const AnswerPiece whole = parseWholeAnswer(body_);
        if (whole.malformed || !whole.error.isEmpty()) {
            failAnswer(tr("The server at %1 sent an answer that could not be read: %2")
                           .arg(address(), whole.malformed ? errorMessageOf(body_) : whole.error));
            return;
        }
        text_ = whole.text;
        answerText_.append(whole.text);
        endAnswer(stopReasonOf(whole.finishReason));
        return;
    }
    if (!streamError_.isEmpty()) {
        failAnswer(tr("The server at %1 stopped the answer: %2").arg(address(), streamError_));
        return;
    }
    if (!done_ && finishReason_.isEmpty()) {
        failAnswer(tr("The server at %1 closed the connection before the answer was complete.")
                       .arg(address()));
        return;
    }
    endAnswer(stopReasonOf(finishReason_));
}

void RemoteEngine::cancel() {
    if (!question_) return;
    drop(std::exchange(answer_, nullptr), this); // the text so far was read as it came
    endAnswer(hip::StopReason::Cancelled);
}

void RemoteEngine::endAnswer(hip::StopReason reason) {
    answerText_.flush();
    const Question question = *std::exchange(question_, std::nullopt);
    if (!text_.isEmpty()) {
        history_.push_back({"user", question.text.toStdString()});
        history_.push_back({"assistant", text_.toStdString()});
    }
    AnswerOutcome outcome;
    outcome.text = text_;
    outcome.stopReason = reason;
    emit answerFinished(outcome);
}

void RemoteEngine::failAnswer(const QString& message) {
    answerText_.flush();
    question_.reset();
    emit answerFailed(message);
}

QString RemoteEngine::problemOf(QNetworkReply& reply, const QByteArray& body,
                                const QString& what) const {
    const int status = httpStatus(reply);
    const QString said = errorMessageOf(body);
    const QString server = address();
    if (status == 401 || status == 403)
        return options_.apiKey.isEmpty()
                   ? tr("The server at %1 wants an API key (HTTP %2: %3). Set it in Settings > "
                        "Engine > Remote.")
                         .arg(server)
                         .arg(status)
                         .arg(said)
                   : tr("The server at %1 refused the API key (HTTP %2: %3). Check the key in "
                        "Settings > Engine > Remote.")
                         .arg(server)
                         .arg(status)
                         .arg(said);
    if (status == 404)
        return tr("The server at %1 has no %2 there (HTTP 404: %3). Check the address (it usually "
                  "ends in /v1) and the model in Settings > Engine > Remote.")
            .arg(server, what, said);
    if (status == 413)
        return tr("The server at %1 refused the request as too large (HTTP 413: %2): the book goes "
                  "with every question. hipreader-cli serve takes larger requests with "
                  "--max-request-bytes.")
            .arg(server, said);
    if (status >= 300)
        return tr("The server at %1 answered HTTP %2: %3").arg(server).arg(status).arg(said);
    switch (reply.error()) {
    case QNetworkReply::NoError:
        return {};
    case QNetworkReply::OperationCanceledError: // the transfer timeout aborts the reply
    case QNetworkReply::TimeoutError:
        return tr("The server at %1 did not answer within %2. Is it running and reachable? "
                  "Settings > Engine > Remote sets how long to wait.")
            .arg(server, options_.timeoutSeconds == 1
                             ? tr("1 second")
                             : tr("%1 seconds").arg(options_.timeoutSeconds));
    case QNetworkReply::ConnectionRefusedError:
        return tr("The server at %1 could not be reached: the connection was refused. Is it "
                  "running, and is this its address (Settings > Engine > Remote)?")
            .arg(server);
    case QNetworkReply::HostNotFoundError:
        return tr("The server at %1 could not be reached: the host %2 was not found.")
            .arg(server, options_.baseUrl.host());
    default:
        return tr("The server at %1 could not be reached: %2").arg(server, reply.errorString());
    }
}

} // namespace hip::ui
