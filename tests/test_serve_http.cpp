// `hipreader-cli serve`'s server in-process on 127.0.0.1 (an ephemeral port) with the default
// model on the CPU, spoken to over real sockets: the model list, chat completions whole and
// streamed (the same text either way), text completions, stop sequences, usage counts, a book
// as context with the pages the answer attended to, the API key, and hostile clients (broken
// JSON, unknown fields, an oversized body, a request that never ends, a client that leaves
// mid-answer, which cancels the work).

#include "test_document_writer.h"
#include "test_support.h"

#include <openai_server.h>
#include <served_model.h>

#include <document/document_ingest.h>
#include <document/document_reader.h>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using hiptest::TestPdfWriter;

namespace {

const QString kDocument = QStringLiteral("river.pdf");
const QString kKey = QStringLiteral("test-key-1234");

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QJsonObject error() const { return json().value("error").toObject(); }
};

// The text of the events of a server-sent-event body, in order.
QList<QByteArray> events(const QByteArray& body) {
    QList<QByteArray> out;
    for (const QByteArray& block : body.split('\n'))
        if (block.startsWith("data: ")) out.append(block.mid(6));
    return out;
}

QString streamedText(const QList<QByteArray>& data) {
    QString text;
    for (const QByteArray& event : data) {
        const QJsonArray choices =
            QJsonDocument::fromJson(event).object().value("choices").toArray();
        if (choices.isEmpty()) continue;
        const QJsonObject choice = choices[0].toObject();
        text += choice.contains("delta")
                    ? choice.value("delta").toObject().value("content").toString()
                    : choice.value("text").toString();
    }
    return text;
}

// Waits for the socket's data to contain `needle` or for it to close; returns what arrived.
QByteArray readUntil(QTcpSocket& socket, const QByteArray& needle, int milliseconds) {
    QByteArray data;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < milliseconds && !data.contains(needle)) {
        QTest::qWait(10);
        data += socket.readAll();
        if (socket.state() == QAbstractSocket::UnconnectedState) break;
    }
    return data + socket.readAll();
}

} // namespace

class TestServeHttp : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void listsTheModelAndItsBooks();
    void chatWholeAndStreamedGiveTheSameTextAndUsage();
    void textCompletionStopsAtAStopSequence();
    void answersAboutABookWithCitedPages();
    void badRequestsGetOpenAiErrors();
    void apiKeyIsRequiredWhenSet();
    void oversizedBodyIsRefused();
    void requestThatNeverEndsTimesOut();
    void clientThatLeavesCancelsItsRequest();
    void connectionCloseIsHonoured();

private:
    Reply send(const QByteArray& method, const QString& path, const QByteArray& body = {},
               quint16 port = 0, const QByteArray& key = {});
    QByteArray chatBody(const QString& question, int maxTokens, bool stream) const;

    QTemporaryDir dir_;
    std::unique_ptr<hip::Engine> engine_;
    std::unique_ptr<serve::ServedModel> model_;
    std::unique_ptr<serve::OpenAiServer> server_;
    std::unique_ptr<serve::OpenAiServer> keyServer_;
    QNetworkAccessManager network_;
    QStringList log_;
};

void TestServeHttp::initTestCase() {
    network_.setProxy(QNetworkProxy::NoProxy);
    const QString pdfPath = dir_.filePath(kDocument);
    {
        TestPdfWriter pdf(pdfPath);
        pdf.text(92, 110, QStringLiteral("Herons nest in the tall alders above the weir."));
        pdf.newPage();
        pdf.text(92, 110, QStringLiteral("Eels swim downstream to the sea in autumn."));
        pdf.newPage();
        pdf.text(92, 110, QStringLiteral("Otters came back to the river ten years ago."));
        QVERIFY(pdf.finish());
    }
    hip::LoadOptions load;
    load.model = hiptest::defaultModelPath();
    load.contextTokens = 2048;
    auto engine = hip::Engine::load(load);
    QVERIFY2(engine, engine.message().c_str());
    engine_ = std::move(*engine);
    model_ = std::make_unique<serve::ServedModel>(*engine_, QStringLiteral("smol"));

    auto text = hip::doc::readDocument(pdfPath);
    QVERIFY2(text, text.message().c_str());
    auto session = engine_->newSession();
    auto tokens = hip::doc::ingestDocument(*session, *text);
    QVERIFY2(tokens, tokens.message().c_str());
    model_->addDocument({kDocument, std::move(*text), std::move(*tokens), std::move(session)});

    serve::ServerOptions options;
    options.port = 0;
    options.connection.maxRequestBytes = 64 * 1024;
    options.connection.requestSeconds = 2;
    options.log = [this](const QString& line) { log_.append(line); };
    server_ = std::make_unique<serve::OpenAiServer>(*model_, options);
    QString error;
    QVERIFY2(server_->listen(&error), qPrintable(error));
    options.apiKey = kKey;
    keyServer_ = std::make_unique<serve::OpenAiServer>(*model_, options);
    QVERIFY2(keyServer_->listen(&error), qPrintable(error));
    QVERIFY(server_->port() != 0 && keyServer_->port() != server_->port());
}

void TestServeHttp::cleanupTestCase() {
    keyServer_.reset();
    server_.reset();
    model_.reset();
    engine_.reset();
}

Reply TestServeHttp::send(const QByteArray& method, const QString& path, const QByteArray& body,
                          quint16 port, const QByteArray& key) {
    QNetworkRequest request(
        QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port ? port : server_->port()).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
    if (!key.isEmpty()) request.setRawHeader("Authorization", "Bearer " + key);
    std::unique_ptr<QNetworkReply> reply(network_.sendCustomRequest(request, method, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(120000)) return {};
    return {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
}

QByteArray TestServeHttp::chatBody(const QString& question, int maxTokens, bool stream) const {
    QJsonObject body{{"model", model_->id()},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", question}}}},
                     {"max_tokens", maxTokens}};
    if (stream) {
        body.insert("stream", true);
        body.insert("stream_options", QJsonObject{{"include_usage", true}});
    }
    return QJsonDocument(body).toJson();
}

void TestServeHttp::listsTheModelAndItsBooks() {
    const Reply list = send("GET", "/v1/models");
    QCOMPARE(list.status, 200);
    QCOMPARE(list.json().value("object").toString(), QStringLiteral("list"));
    const QJsonObject model = list.json().value("data").toArray()[0].toObject();
    QCOMPARE(model.value("id").toString(), QStringLiteral("smol"));
    QCOMPARE(model.value("object").toString(), QStringLiteral("model"));
    const QJsonObject extension = model.value("hipreader").toObject();
    QCOMPARE(extension.value("context_length").toInt(), 2048);
    const QJsonObject book = extension.value("documents").toArray()[0].toObject();
    QCOMPARE(book.value("id").toString(), kDocument);
    QCOMPARE(book.value("pages").toInt(), 3);
    QVERIFY(book.value("tokens").toInt() > 20);

    QCOMPARE(send("GET", "/v1/models/smol").json().value("id").toString(), QStringLiteral("smol"));
    const Reply missing = send("GET", "/v1/models/gpt-4");
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.error().value("code").toString(), QStringLiteral("model_not_found"));
}

void TestServeHttp::chatWholeAndStreamedGiveTheSameTextAndUsage() {
    const QString question = QStringLiteral("What is the capital of France?");
    const Reply whole = send("POST", "/v1/chat/completions", chatBody(question, 12, false));
    QCOMPARE(whole.status, 200);
    const QJsonObject answer = whole.json();
    QCOMPARE(answer.value("object").toString(), QStringLiteral("chat.completion"));
    QVERIFY(answer.value("id").toString().startsWith("chatcmpl-"));
    const QJsonObject choice = answer.value("choices").toArray()[0].toObject();
    const QString text = choice.value("message").toObject().value("content").toString();
    QVERIFY2(!text.isEmpty(), whole.body.constData());
    QCOMPARE(choice.value("message").toObject().value("role").toString(),
             QStringLiteral("assistant"));
    const QJsonObject usage = answer.value("usage").toObject();
    const int completionTokens = usage.value("completion_tokens").toInt();
    QVERIFY(usage.value("prompt_tokens").toInt() > 10);
    QVERIFY(completionTokens >= 1 && completionTokens <= 12);
    QCOMPARE(usage.value("total_tokens").toInt(),
             usage.value("prompt_tokens").toInt() + completionTokens);
    QCOMPARE(choice.value("finish_reason").toString(),
             completionTokens == 12 ? QStringLiteral("length") : QStringLiteral("stop"));

    const Reply streamed = send("POST", "/v1/chat/completions", chatBody(question, 12, true));
    QCOMPARE(streamed.status, 200);
    const QList<QByteArray> data = events(streamed.body);
    QVERIFY2(data.size() >= 4, streamed.body.constData());
    QCOMPARE(data.last(), QByteArray("[DONE]"));
    const QJsonObject first = QJsonDocument::fromJson(data.first()).object();
    QCOMPARE(first.value("object").toString(), QStringLiteral("chat.completion.chunk"));
    QCOMPARE(first.value("choices")
                 .toArray()[0]
                 .toObject()
                 .value("delta")
                 .toObject()
                 .value("role")
                 .toString(),
             QStringLiteral("assistant"));
    QCOMPARE(streamedText(data), text); // greedy: the same answer either way
    const QJsonObject last = QJsonDocument::fromJson(data[data.size() - 2]).object();
    QCOMPARE(last.value("usage").toObject(), usage);
    QVERIFY(log_.filter("streamed").size() >= 1);
}

void TestServeHttp::textCompletionStopsAtAStopSequence() {
    const QByteArray prompt = R"({"model": "smol", "prompt": "One, two, three,", "max_tokens": 10)";
    const Reply whole = send("POST", "/v1/completions", prompt + "}");
    QCOMPARE(whole.status, 200);
    QCOMPARE(whole.json().value("object").toString(), QStringLiteral("text_completion"));
    const QString text =
        whole.json().value("choices").toArray()[0].toObject().value("text").toString();
    QVERIFY2(text.contains(" five"), qPrintable(text));
    QCOMPARE(whole.json().value("usage").toObject().value("completion_tokens").toInt(), 10);

    const Reply stopped =
        send("POST", "/v1/completions", prompt + R"(, "stop": [" five", "zzz"]})");
    const QJsonObject choice = stopped.json().value("choices").toArray()[0].toObject();
    QCOMPARE(choice.value("text").toString(), text.left(text.indexOf(" five")));
    QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("stop"));
    QVERIFY(stopped.json().value("usage").toObject().value("completion_tokens").toInt() < 10);

    // Streamed, the stop sequence is cut the same way and never sent in part.
    const Reply streamed =
        send("POST", "/v1/completions", prompt + R"(, "stop": " five", "stream": true})");
    QCOMPARE(streamedText(events(streamed.body)), text.left(text.indexOf(" five")));
}

void TestServeHttp::answersAboutABookWithCitedPages() {
    QJsonObject body{{"model", "smol"},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"},
                                                         {"content", "Where do herons nest?"}}}},
                     {"max_tokens", 16},
                     {"hipreader", QJsonObject{{"document", kDocument}, {"cited_pages", 2}}}};
    const Reply reply = send("POST", "/v1/chat/completions", QJsonDocument(body).toJson());
    QCOMPARE(reply.status, 200);
    const QJsonObject extension = reply.json().value("hipreader").toObject();
    QCOMPARE(extension.value("document").toString(), kDocument);
    const QJsonArray pages = extension.value("cited_pages").toArray();
    QVERIFY2(!pages.isEmpty() && pages.size() <= 2, reply.body.constData());
    for (const QJsonValue& page : pages) {
        QVERIFY(page.toObject().value("index").toInt() >= 0 &&
                page.toObject().value("index").toInt() < 3);
        QVERIFY(page.toObject().value("weight").toDouble() > 0);
        QVERIFY(!page.toObject().value("page").toString().isEmpty());
    }
    // The book's turn stays cached: the prompt counts it, but only the question is computed.
    QVERIFY(reply.json().value("usage").toObject().value("prompt_tokens").toInt() > 30);

    body["hipreader"] = QJsonObject{{"document", "missing.pdf"}};
    const Reply missing = send("POST", "/v1/chat/completions", QJsonDocument(body).toJson());
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.error().value("param").toString(), QStringLiteral("hipreader.document"));
}

void TestServeHttp::badRequestsGetOpenAiErrors() {
    struct Case {
        QByteArray method;
        QString path;
        QByteArray body;
        int status;
        QString code;
    };
    const QList<Case> cases = {
        {"POST", "/v1/chat/completions", R"({"model": "smol", "messages": [)", 400, "invalid_json"},
        {"POST", "/v1/chat/completions",
         R"({"model": "smol", "messages": [{"role": "user", "content": "x"}], "colour": "red"})",
         400, "unknown_parameter"},
        {"POST", "/v1/chat/completions",
         R"({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})", 404,
         "model_not_found"},
        {"POST",
         "/v1/completions",
         R"({"model": "smol", "prompt": "x", "max_tokens": 100000})",
         400,
         {}},
        {"POST", "/v1/completions",
         R"({"model": "smol", "prompt": ")" + QByteArray("many words ").repeated(1500) + R"("})",
         400, "context_length_exceeded"},
        {"GET", "/v1/chat/completions", {}, 405, "method_not_allowed"},
        {"POST", "/v1/embeddings", "{}", 404, "unknown_url"},
    };
    for (const Case& c : cases) {
        const Reply reply = send(c.method, c.path, c.body);
        QCOMPARE(reply.status, c.status);
        const QJsonObject error = reply.error();
        QVERIFY2(error.contains("message") && error.contains("type") && error.contains("param") &&
                     error.contains("code"),
                 reply.body.constData());
        if (!c.code.isEmpty()) QCOMPARE(error.value("code").toString(), c.code);
    }
}

void TestServeHttp::apiKeyIsRequiredWhenSet() {
    const quint16 port = keyServer_->port();
    const Reply none = send("GET", "/v1/models", {}, port);
    QCOMPARE(none.status, 401);
    QCOMPARE(none.error().value("code").toString(), QStringLiteral("invalid_api_key"));
    QCOMPARE(send("GET", "/v1/models", {}, port, "wrong-key-123").status, 401);
    QCOMPARE(send("POST", "/v1/completions", R"({"model": "smol", "prompt": "x"})", port).status,
             401);
    QCOMPARE(send("GET", "/v1/models", {}, port, kKey.toUtf8()).status, 200);
    const Reply answer =
        send("POST", "/v1/completions", R"({"model": "smol", "prompt": "Hello", "max_tokens": 2})",
             port, kKey.toUtf8());
    QCOMPARE(answer.status, 200);
}

void TestServeHttp::oversizedBodyIsRefused() {
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server_->port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray body(1 << 20, 'x');
    socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/json\r\nContent-Length: " +
                 QByteArray::number(body.size()) + "\r\n\r\n");
    socket.write(body);
    const QByteArray answer = readUntil(socket, "}}", 10000);
    QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.left(200).constData());
    QVERIFY(answer.contains(R"("type":"invalid_request_error")"));
    // The server goes on answering.
    QCOMPARE(send("GET", "/v1/models").status, 200);
}

void TestServeHttp::requestThatNeverEndsTimesOut() {
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server_->port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                 "100\r\n\r\n{\"mo");
    QElapsedTimer clock;
    clock.start();
    const QByteArray answer = readUntil(socket, "}}", 10000);
    QVERIFY2(answer.startsWith("HTTP/1.1 408"), answer.constData());
    QVERIFY(clock.elapsed() < 6000); // the limit is 2 s, checked every second
    QCOMPARE(send("GET", "/v1/models").status, 200);
}

void TestServeHttp::clientThatLeavesCancelsItsRequest() {
    log_.clear();
    auto socket = std::make_unique<QTcpSocket>();
    socket->connectToHost(QHostAddress::LocalHost, server_->port());
    QVERIFY(socket->waitForConnected(5000));
    // Counting to the context's end would take the CPU many seconds.
    const QByteArray body =
        R"({"model": "smol", "prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": 4000, "stream": true})";
    socket->write(
        "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        QByteArray::number(body.size()) + "\r\n\r\n" + body);
    const QByteArray start = readUntil(*socket, "data: ", 60000);
    QVERIFY2(start.startsWith("HTTP/1.1 200") && start.contains("text/event-stream"),
             start.constData());
    QElapsedTimer clock;
    clock.start();
    socket->abort();
    socket.reset();
    QTRY_VERIFY_WITH_TIMEOUT(!log_.filter("client gone, cancelled").isEmpty(), 20000);
    QVERIFY(log_.filter(" 200").isEmpty());
    // The engine is free again at once.
    const Reply next =
        send("POST", "/v1/completions", R"({"model": "smol", "prompt": "Hello", "max_tokens": 2})");
    QCOMPARE(next.status, 200);
    QVERIFY2(clock.elapsed() < 15000, qPrintable(QString::number(clock.elapsed())));
}

void TestServeHttp::connectionCloseIsHonoured() {
    const QList<QByteArray> requests = {
        "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: "
        "1\r\n\r\n{"};
    for (const QByteArray& request : requests) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server_->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(request);
        QElapsedTimer clock;
        clock.start();
        const QByteArray answer = readUntil(socket, "never", 10000);
        QVERIFY2(answer.startsWith("HTTP/1.1 200") || answer.startsWith("HTTP/1.1 400"),
                 answer.constData());
        QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
        QVERIFY(clock.elapsed() < 5000);
    }
}

QTEST_MAIN(TestServeHttp)
#include "test_serve_http.moc"
