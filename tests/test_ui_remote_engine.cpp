// The remote engine (Settings > Engine > Remote) against a real server: `hipreader-cli serve`,
// started by the suite on a free port with the default model on the CPU, a 2,048-token context
// and an API key. The window answers through it: the book goes as context and the answer streams
// into the chat; a book too long for the server's context is refused before anything is sent; a
// wrong key, a closed port and a server that never answers give clear messages, the last two
// within the timeout; stopping mid-answer keeps the text so far; the attention views, page heat
// and memory gauge say that they need the local engine; and the local engine stays the default.
// First, without the server, what the engine reads of the servers it may meet.

#include "bridge/engine_bridge.h"
#include "chat/chat_controller.h"
#include "chat/chat_model.h"
#include "common/local_engine_only.h"
#include "common/resources.h"
#include "main_window/activity_bar.h"
#include "main_window/context_meter.h"
#include "main_window/main_window.h"
#include "remote/context_fit.h"
#include "remote/openai_json.h"
#include "remote/remote_engine.h"
#include "remote/sse_reader.h"
#include "settings/settings_dialog.h"
#include "test_ui_support.h"

#include <QAction>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QRadioButton>
#include <QRegularExpression>
#include <QTcpServer>

using namespace hip::ui;

namespace {

const QString kKey = QStringLiteral("remote-test-key-5678");
constexpr int kServerContext = 2048;
constexpr int kAnswerMs = 120000; // an answer of the default model on a busy two-core CPU

// A book of about 6,000 tokens: three times the server's context.
QString writeLongText(const QTemporaryDir& folder) {
    const QString path = folder.filePath(QStringLiteral("long-river.txt"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
    for (int i = 0; i < 300; ++i)
        file.write(QStringLiteral("On day %1 the ferryman crossed the river with wool and "
                                  "apples for the market.\n")
                       .arg(i + 1)
                       .toUtf8());
    return path;
}

// A port nothing listens on: one the system just gave out and took back.
quint16 closedPort() {
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost)) qFatal("no free port");
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

} // namespace

class TestUiRemoteEngine : public QObject {
    Q_OBJECT

    QTemporaryDir folder_;
    QString book_;
    QProcess server_;
    QByteArray serverLog_;
    quint16 port_ = 0;
    std::unique_ptr<AppSettings> settings_;
    std::unique_ptr<MainWindow> window_;

    QUrl serverUrl(quint16 port) const {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    }
    RemoteOptions options() const {
        RemoteOptions options;
        options.baseUrl = serverUrl(port_);
        options.apiKey = kKey;
        options.timeoutSeconds = 30;
        return options;
    }
    // The server's log lines of chats (one per request that reached the engine), the last first.
    QStringList chatLog() {
        serverLog_ += server_.readAllStandardError();
        QStringList lines;
        for (const QByteArray& line : serverLog_.split('\n'))
            if (line.startsWith("POST /v1/chat/completions"))
                lines.prepend(QString::fromUtf8(line));
        return lines;
    }
    int answeredChats() { return int(chatLog().size()); }
    // Asks `engine` and waits for its answer to fail; returns the message.
    static QString failureOf(RemoteEngine& engine, qint64* milliseconds = nullptr) {
        QSignalSpy failed(&engine, &RemoteEngine::answerFailed);
        QElapsedTimer clock;
        clock.start();
        if (!engine.ask(QStringLiteral("Hello?"), {}, std::nullopt)) return {};
        if (!failed.wait(20000)) return {};
        if (milliseconds) *milliseconds = clock.elapsed();
        qInfo("after %lld ms: %s", qlonglong(clock.elapsed()),
              qPrintable(failed.at(0).at(0).toString()));
        return failed.at(0).at(0).toString();
    }

private slots:
    void initTestCase() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        initResources();
        for (const char* proxy : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
            qunsetenv(proxy); // the server is on this computer
        book_ = uitest::writeBook(folder_);

        server_.start(QStringLiteral(HIPREADER_CLI),
                      {QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                       QStringLiteral("--device"), QStringLiteral("cpu"), QStringLiteral("--model"),
                       QString::fromStdString(hiptest::defaultModelPath().string()),
                       QStringLiteral("--context"), QString::number(kServerContext),
                       QStringLiteral("--api-key"), kKey});
        QVERIFY2(server_.waitForStarted(10000), qPrintable(server_.errorString()));
        // It prints where it listens once the model is loaded.
        const QRegularExpression listening(QStringLiteral("at http://127\\.0\\.0\\.1:(\\d+)/v1"));
        QElapsedTimer clock;
        clock.start();
        while (port_ == 0 && clock.elapsed() < 60000 && server_.state() == QProcess::Running) {
            server_.waitForReadyRead(200);
            serverLog_ += server_.readAllStandardError();
            if (const auto match = listening.match(QString::fromUtf8(serverLog_)); match.hasMatch())
                port_ = quint16(match.captured(1).toUInt());
        }
        QVERIFY2(port_ != 0, serverLog_.constData());

        settings_ = std::make_unique<AppSettings>(folder_.filePath(QStringLiteral("settings.ini")));
        uitest::configureFastModel(*settings_);
        settings_->setEngineKind(EngineKind::Remote);
        settings_->setRemoteOptions(options());
        window_ =
            std::make_unique<MainWindow>(*settings_, folder_.filePath(QStringLiteral("chats")));
        window_->setQuestionHandler(
            [](const QString&, const QString&, const QString&) { return true; });
        window_->resize(1300, 850);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    }

    void cleanupTestCase() {
        window_.reset();
        server_.terminate(); // SIGTERM: the server stops in order
        if (!server_.waitForFinished(15000)) server_.kill();
    }

    void readsWhatServersReport() {
        // The context length, where each kind of server puts it.
        const auto ours = parseModelList(
            R"({"object":"list","data":[{"id":"smol","object":"model",
                "hipreader":{"context_length":8192,"documents":[]}}]})");
        QVERIFY(ours && ours->size() == 1);
        QCOMPARE(ours->front().id, QStringLiteral("smol"));
        QCOMPARE(ours->front().contextTokens, qint64(8192));
        const auto vllm = parseModelList(
            R"({"object":"list","data":[{"id":"meta-llama/Llama-3.1-70B-Instruct",
                "object":"model","max_model_len":131072},{"id":"second","max_model_len":4096}]})");
        QVERIFY(vllm && vllm->size() == 2);
        QCOMPARE(vllm->front().contextTokens, qint64(131072));
        // llama.cpp lists the trained context only: its slots' context comes from /props.
        const auto llama = parseModelList(
            R"({"object":"list","data":[{"id":"model.gguf","meta":{"n_ctx_train":131072}}]})");
        QVERIFY(llama && llama->size() == 1);
        QCOMPARE(llama->front().contextTokens, qint64(0));
        QCOMPARE(parseServerProps(R"({"default_generation_settings":{"n_ctx":16384}})"),
                 qint64(16384));
        QCOMPARE(parseServerProps("<html>not found</html>"), qint64(0));
        QVERIFY(!parseModelList("<html>a web page</html>"));

        // Server-sent events arrive in pieces of any size, with CRLF or LF, comments and data
        // over several lines.
        const QByteArray stream = ": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\ndata: one\ndata: "
                                  "two\n\nevent: x\ndata:[DONE]\n\n";
        for (const int step : {1, 2, 5, 1000}) {
            SseReader reader;
            QList<QByteArray> events;
            for (qsizetype at = 0; at < stream.size(); at += step)
                events += reader.feed(stream.mid(at, step));
            QCOMPARE(events, (QList<QByteArray>{"{\"a\":1}", "one\ntwo", "[DONE]"}));
            QVERIFY(!reader.hasPartialEvent());
        }

        // Pieces of an answer, and errors in the shapes servers send them.
        const AnswerPiece piece =
            parseStreamChunk(R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})");
        QCOMPARE(piece.text, QStringLiteral("Hel"));
        QCOMPARE(
            parseStreamChunk(R"({"choices":[{"delta":{},"finish_reason":"length"}]})").finishReason,
            QStringLiteral("length"));
        QCOMPARE(parseStreamChunk(R"({"error":{"message":"out of memory"}})").error,
                 QStringLiteral("out of memory"));
        QVERIFY(parseStreamChunk("{half").malformed);
        QCOMPARE(errorMessageOf(R"({"detail":"Not authenticated"})"),
                 QStringLiteral("Not authenticated"));
        QCOMPARE(errorMessageOf(R"({"error":"Invalid API Key"})"),
                 QStringLiteral("Invalid API Key"));

        // A long conversation loses its oldest exchanges first; the book and question stay.
        ChatTurns history;
        for (int i = 0; i < 10; ++i) {
            history.push_back({"user", "question " + std::to_string(i) + std::string(700, 'q')});
            history.push_back({"assistant", "answer " + std::to_string(i) + std::string(700, 'a')});
        }
        const auto fitted =
            fitRequest(QStringLiteral("Book"), std::string(2000, 'b'), history, "Why?", 100, 2048);
        QVERIFY(std::holds_alternative<FittedRequest>(fitted));
        const ChatTurns& messages = std::get<FittedRequest>(fitted).messages;
        QVERIFY(messages.size() > 3 && messages.size() < history.size() + 2);
        QCOMPARE(messages.front().role, std::string("system"));
        QCOMPARE(messages.back().content, std::string("Why?"));
        QVERIFY(messages[messages.size() - 2].content.starts_with("answer 9"));
        QVERIFY(std::get<FittedRequest>(fitted).estimatedTokens <= 2048);
    }

    void localIsTheDefault() {
        AppSettings fresh(folder_.filePath(QStringLiteral("fresh.ini")));
        QCOMPARE(fresh.engineKind(), EngineKind::Local);
        MainWindow window(fresh, folder_.filePath(QStringLiteral("fresh-chats")));
        QVERIFY(!window.remoteEngine());
        QCOMPARE(&window.chat().engine(), static_cast<AnswerEngine*>(&window.bridge()));
        QVERIFY(
            !qobject_cast<LocalEngineOnly*>(window.dock(QStringLiteral("attentionDock"))->widget())
                 ->showsNotice());
    }

    void settingsChooseARemoteEngineAndKeepItsKey() {
        AppSettings settings(folder_.filePath(QStringLiteral("dialog.ini")));
        SettingsDialog dialog(settings);
        QVERIFY(!dialog.remoteChoice()->isChecked());
        QVERIFY(!dialog.remoteUrlField()->isEnabled());
        dialog.remoteChoice()->setChecked(true);
        QVERIFY(dialog.remoteUrlField()->isEnabled());
        dialog.remoteUrlField()->setText(QStringLiteral("http://gpu-box:8000/v1"));
        dialog.remoteKeyField()->setText(QStringLiteral("sk-secret"));
        dialog.apply();
        QVERIFY(dialog.engineSettingsChanged());
        QVERIFY(!dialog.modelSettingsChanged());
        QCOMPARE(settings.engineKind(), EngineKind::Remote);
        QCOMPARE(settings.remoteOptions().baseUrl, QUrl(QStringLiteral("http://gpu-box:8000/v1")));
        // The key is in the settings file (the user guide says so).
        QFile file(folder_.filePath(QStringLiteral("dialog.ini")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll().contains("sk-secret"));
    }

    void checksTheServersModelAndContext() {
        RemoteEngine engine(options());
        QSignalSpy checked(&engine, &RemoteEngine::serverChecked);
        engine.checkServer();
        QVERIFY(checked.wait(20000));
        QCOMPARE(engine.server()->id, QStringLiteral("SmolLM2-135M-Instruct.Q4_1"));
        QCOMPARE(engine.server()->contextTokens, qint64(kServerContext));
    }

    void answerStreamsIntoTheChat() {
        MainWindow& w = *window_;
        QVERIFY(w.remoteEngine());
        QCOMPARE(&w.chat().engine(), static_cast<AnswerEngine*>(w.remoteEngine()));
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        QSignalSpy checked(w.remoteEngine(), &RemoteEngine::serverChecked);
        w.loadModel(); // with a remote engine: asks the server for its model and context
        w.openFile(book_);
        QVERIFY(opened.wait(20000));
        QVERIFY(checked.count() == 1 || checked.wait(20000));
        QVERIFY2(w.modelStatus().contains(QStringLiteral("remote")), qPrintable(w.modelStatus()));
        // The book against the server's context, before anything is sent.
        QCOMPARE(w.contextMeter()->capacity(), qint64(kServerContext));
        QVERIFY(w.contextMeter()->documentTokens() > 100);
        QVERIFY(!w.bridge().hasModel()); // the local model was never loaded

        const int chatsBefore = answeredChats();
        QSignalSpy text(w.remoteEngine(), &RemoteEngine::answerText);
        QSignalSpy finished(w.remoteEngine(), &RemoteEngine::answerFinished);
        QVERIFY(w.chat().ask(QStringLiteral("What is the name of the lighthouse cat?")));
        QVERIFY(w.chat().isAnswering());
        QVERIFY(text.wait(kAnswerMs));
        const int row = w.chatModel().rowCount() - 1;
        QVERIFY(w.chatModel().message(row).streaming || finished.count() == 1);
        QVERIFY(!w.chatModel().message(row).text.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kAnswerMs);
        const ChatMessage& answer = w.chatModel().message(row);
        QVERIFY(!answer.streaming);
        QVERIFY(!answer.text.trimmed().isEmpty());
        QVERIFY2(!answer.note.startsWith(QStringLiteral("failed")), qPrintable(answer.note));
        QCOMPARE(answer.text, finished.at(0).at(0).value<AnswerOutcome>().text);
        qInfo("answer: %s", qPrintable(answer.text));

        // The server answered one streamed chat whose prompt held the book (more tokens than
        // the question alone).
        QTRY_COMPARE_WITH_TIMEOUT(answeredChats(), chatsBefore + 1, 5000);
        const QRegularExpression line(QStringLiteral("200 streamed: (\\d+)\\+(\\d+) tokens"));
        const auto match = line.match(chatLog().value(0));
        QVERIFY2(match.hasMatch(), qPrintable(chatLog().value(0)));
        QVERIFY2(match.captured(1).toInt() > 150, qPrintable(match.captured(0)));
        // The exchange is the conversation the next question follows.
        QCOMPARE(w.remoteEngine()->history().size(), size_t(2));
    }

    void viewsSayTheyNeedTheLocalEngine() {
        MainWindow& w = *window_;
        const QString server = serverUrl(port_).toString();
        for (const char* name : {"attentionDock", "memoryDock"}) {
            auto* area = qobject_cast<LocalEngineOnly*>(w.dock(QLatin1String(name))->widget());
            QVERIFY(area);
            QVERIFY(area->showsNotice());
            QVERIFY2(area->notice().contains(QStringLiteral("need")) &&
                         area->notice().contains(QStringLiteral("the local engine")) &&
                         area->notice().contains(server),
                     qPrintable(area->notice()));
        }
        const QList<QLabel*> labels = w.dock(QStringLiteral("pagesDock"))->findChildren<QLabel*>();
        const bool heatNotice = std::any_of(labels.begin(), labels.end(), [](QLabel* label) {
            return label->isVisible() &&
                   label->text().startsWith(QStringLiteral("Page heat needs the local engine."));
        });
        QVERIFY(heatNotice);
        for (QAction* action : w.findChildren<QAction*>())
            if (action->text().contains(QStringLiteral("Heat"))) QVERIFY(!action->isEnabled());
    }

    void aBookTooLongIsRefusedBeforeSending() {
        MainWindow& w = *window_;
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(writeLongText(folder_));
        QVERIFY(opened.wait(20000));
        // Said when the book opens, before any question.
        QVERIFY2(w.activityBar()->text().contains(QStringLiteral("the server's context holds")),
                 qPrintable(w.activityBar()->text()));
        QVERIFY(w.contextMeter()->documentTokens() > kServerContext);

        const int chatsBefore = answeredChats();
        QSignalSpy failed(w.remoteEngine(), &RemoteEngine::answerFailed);
        QVERIFY(w.chat().ask(QStringLiteral("What did the ferryman carry?")));
        QVERIFY(failed.wait(5000));
        const QString message = failed.at(0).at(0).toString();
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("is about")) &&
                     message.contains(QStringLiteral("2,048")) &&
                     message.contains(QStringLiteral("Nothing was sent")),
                 qPrintable(message));
        const ChatMessage& answer = w.chatModel().message(w.chatModel().rowCount() - 1);
        QVERIFY(!answer.streaming);
        QVERIFY2(answer.note.contains(QStringLiteral("Nothing was sent")), qPrintable(answer.note));
        QVERIFY(!w.chat().isAnswering());
        QTest::qWait(300);
        QCOMPARE(answeredChats(), chatsBefore);
    }

    void cancelMidStreamKeepsThePartialAnswer() {
        MainWindow& w = *window_;
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(book_);
        QVERIFY(opened.wait(20000));
        hip::GenerateOptions options = settings_->generateOptions();
        options.maxTokens = 200;
        settings_->setGenerateOptions(options);
        QSignalSpy text(w.remoteEngine(), &RemoteEngine::answerText);
        QSignalSpy finished(w.remoteEngine(), &RemoteEngine::answerFinished);
        QVERIFY(w.chat().ask(QStringLiteral("Tell me a long story about the harbour of Wendle.")));
        QVERIFY(text.wait(kAnswerMs));
        QVERIFY(finished.isEmpty());
        QTest::keyClick(&w, Qt::Key_Escape); // Chat > Stop Answering
        QVERIFY(!w.chat().isAnswering());    // the reply is aborted at once
        QCOMPARE(finished.count(), 1);
        const auto outcome = finished.at(0).at(0).value<AnswerOutcome>();
        QCOMPARE(outcome.stopReason, hip::StopReason::Cancelled);
        const ChatMessage& answer = w.chatModel().message(w.chatModel().rowCount() - 1);
        QVERIFY(!answer.text.isEmpty());
        QCOMPARE(answer.text, outcome.text);
        QCOMPARE(answer.note, QStringLiteral("stopped"));
        qInfo("stopped after: %s", qPrintable(answer.text));
        // The server saw the client leave and cancelled the generation.
        QTRY_VERIFY2_WITH_TIMEOUT(chatLog().value(0).contains(QStringLiteral("client gone")),
                                  qPrintable(chatLog().join(QLatin1Char('\n'))), 10000);
        qInfo("server: %s", qPrintable(chatLog().value(0)));
        options.maxTokens = 24;
        settings_->setGenerateOptions(options);
    }

    void wrongKeyGivesAClearError() {
        RemoteOptions wrong = options();
        wrong.apiKey = QStringLiteral("not-the-key");
        RemoteEngine engine(wrong);
        const QString message = failureOf(engine);
        QVERIFY2(message.contains(QStringLiteral("refused the API key")) &&
                     message.contains(QStringLiteral("HTTP 401")),
                 qPrintable(message));
    }

    void closedPortGivesAClearErrorAtOnce() {
        RemoteOptions closed = options();
        closed.baseUrl = serverUrl(closedPort());
        closed.timeoutSeconds = 2;
        RemoteEngine engine(closed);
        qint64 ms = 0;
        const QString message = failureOf(engine, &ms);
        QVERIFY2(message.contains(QStringLiteral("could not be reached")) &&
                     message.contains(QStringLiteral("refused")),
                 qPrintable(message));
        QVERIFY2(ms < 2000, qPrintable(QString::number(ms)));
    }

    void silentServerTimesOut() {
        QTcpServer silent; // takes connections and never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        RemoteOptions options = this->options();
        options.baseUrl = serverUrl(silent.serverPort());
        options.timeoutSeconds = 1;
        RemoteEngine engine(options);
        qint64 ms = 0;
        const QString message = failureOf(engine, &ms);
        QVERIFY2(message.contains(QStringLiteral("did not answer within 1 second")),
                 qPrintable(message));
        QVERIFY2(ms >= 900 && ms < 5000, qPrintable(QString::number(ms)));
    }
};

QTEST_MAIN(TestUiRemoteEngine)
#include "test_ui_remote_engine.moc"
