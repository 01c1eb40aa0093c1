// The server's request handling without sockets or a model: OpenAI request bodies parsed and
// refused field by field, stop sequences cut across streamed pieces, the FIFO request queue,
// and the shapes of the JSON answers.

#include <openai_request.h>
#include <openai_response.h>
#include <request_queue.h>
#include <stop_sequence_filter.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using serve::ApiError;
using serve::GenerationRequest;

namespace {

const serve::RequestLimits kLimits;

GenerationRequest chat(const QByteArray& body) {
    auto parsed = serve::parseChatRequest(body, kLimits);
    if (auto* error = std::get_if<ApiError>(&parsed))
        qFatal("unexpected error: %s", qPrintable(error->message));
    return std::get<GenerationRequest>(parsed);
}

ApiError chatError(const QByteArray& body) {
    auto parsed = serve::parseChatRequest(body, kLimits);
    if (!std::holds_alternative<ApiError>(parsed)) qFatal("accepted: %s", body.constData());
    return std::get<ApiError>(parsed);
}

ApiError completionError(const QByteArray& body) {
    auto parsed = serve::parseCompletionRequest(body, kLimits);
    if (!std::holds_alternative<ApiError>(parsed)) qFatal("accepted: %s", body.constData());
    return std::get<ApiError>(parsed);
}

// Feeds `pieces` through a filter and returns what it lets out.
std::string filtered(std::vector<std::string> stops, const std::vector<std::string>& pieces,
                     bool* stopped = nullptr) {
    serve::StopSequenceFilter filter(std::move(stops));
    std::string out;
    for (const std::string& piece : pieces)
        out += filter.feed(piece);
    out += filter.finish();
    if (stopped) *stopped = filter.stopped();
    return out;
}

} // namespace

class TestServeRequests : public QObject {
    Q_OBJECT
private slots:
    void chatRequestTakesEveryOption() {
        const GenerationRequest r = chat(R"({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
            {"role": "assistant", "content": "Hello."},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "Why?", "name": "ann"}],
            "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.1, "repetition_penalty": 1.2,
            "seed": 7, "max_tokens": 33, "stop": ["\n\n", "END"], "stream": true,
            "stream_options": {"include_usage": true}, "n": 1, "frequency_penalty": 0,
            "presence_penalty": 0, "user": "u1", "logprobs": false,
            "hipreader": {"document": "book.pdf", "cited_pages": 3}})");
        QCOMPARE(r.kind, GenerationRequest::Kind::Chat);
        QCOMPARE(r.model, QStringLiteral("m"));
        QCOMPARE(r.messages.size(), size_t(5));
        QCOMPARE(r.messages[1].content, std::string("Hi there"));
        QCOMPARE(r.messages[3].role, std::string("system")); // developer is a system turn
        QCOMPARE(r.messages[4].role, std::string("user"));
        QCOMPARE(r.options.sampler.temperature, 0.7f);
        QCOMPARE(r.options.sampler.topP, 0.9f);
        QCOMPARE(r.options.sampler.topK, 20);
        QCOMPARE(r.options.sampler.minP, 0.1f);
        QCOMPARE(r.options.sampler.repetitionPenalty, 1.2f);
        QCOMPARE(r.options.sampler.seed, uint64_t(7));
        QCOMPARE(r.options.maxTokens, 33);
        QCOMPARE(r.stop, (std::vector<std::string>{"\n\n", "END"}));
        QVERIFY(r.stream);
        QVERIFY(r.streamUsage);
        QCOMPARE(r.document, QStringLiteral("book.pdf"));
        QCOMPARE(r.citedPages, 3);
    }

    void defaultsAreTheEngines() {
        const GenerationRequest r = chat(
            R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": null})");
        const hip::GenerateOptions engine;
        QCOMPARE(r.options.sampler.temperature, engine.sampler.temperature);
        QCOMPARE(r.options.maxTokens, engine.maxTokens);
        QVERIFY(!r.stream);
        QVERIFY(r.stop.empty());
        auto completion = serve::parseCompletionRequest(
            R"({"model": "m", "prompt": ["Once"], "stop": "."})", kLimits);
        const auto& c = std::get<GenerationRequest>(completion);
        QCOMPARE(c.prompt, std::string("Once"));
        QCOMPARE(c.options.maxTokens, 16); // OpenAI's default for completions
        QCOMPARE(c.stop, std::vector<std::string>{"."});
    }

    void badBodiesAreRefusedNamingTheField_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("param");
        QTest::addColumn<QString>("code");
        const QByteArray user = R"("messages": [{"role": "user", "content": "x"}])";
        QTest::newRow("broken JSON")
            << QByteArray(R"({"model": "m", )") << QString() << "invalid_json";
        QTest::newRow("not an object") << QByteArray("[1, 2]") << QString() << "invalid_json";
        QTest::newRow("empty") << QByteArray() << QString() << "invalid_json";
        QTest::newRow("unknown field") << R"({"model": "m", )" + user + R"(, "temprature": 1})"
                                       << "temprature"
                                       << "unknown_parameter";
        QTest::newRow("unknown message field")
            << QByteArray(
                   R"({"model": "m", "messages": [{"role": "user", "content": "x", "tone": 1}]})")
            << "messages[0].tone"
            << "unknown_parameter";
        QTest::newRow("unknown extension field")
            << R"({"model": "m", )" + user + R"(, "hipreader": {"doc": "a"}})"
            << "hipreader.doc"
            << "unknown_parameter";
        QTest::newRow("no model") << "{" + user + "}"
                                  << "model"
                                  << "missing_required_parameter";
        QTest::newRow("no messages") << QByteArray(R"({"model": "m"})") << "messages"
                                     << "missing_required_parameter";
        QTest::newRow("empty messages")
            << QByteArray(R"({"model": "m", "messages": []})") << "messages" << QString();
        QTest::newRow("bad role")
            << QByteArray(R"({"model": "m", "messages": [{"role": "robot", "content": "x"}]})")
            << "messages[0].role" << QString();
        QTest::newRow("image content")
            << QByteArray(
                   R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})")
            << "messages[0].content"
            << "unsupported_content";
        QTest::newRow("last is not the user's")
            << QByteArray(
                   R"({"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]})")
            << "messages" << QString();
        QTest::newRow("temperature too high")
            << R"({"model": "m", )" + user + R"(, "temperature": 3})"
            << "temperature" << QString();
        QTest::newRow("temperature a string")
            << R"({"model": "m", )" + user + R"(, "temperature": "hot"})"
            << "temperature" << QString();
        QTest::newRow("max_tokens zero") << R"({"model": "m", )" + user + R"(, "max_tokens": 0})"
                                         << "max_tokens" << QString();
        QTest::newRow("max_tokens over the limit")
            << R"({"model": "m", )" + user + R"(, "max_tokens": 4097})"
            << "max_tokens" << QString();
        QTest::newRow("max_tokens fractional")
            << R"({"model": "m", )" + user + R"(, "max_tokens": 1.5})"
            << "max_tokens" << QString();
        QTest::newRow("five stops")
            << R"({"model": "m", )" + user + R"(, "stop": ["a","b","c","d","e"]})"
            << "stop" << QString();
        QTest::newRow("empty stop") << R"({"model": "m", )" + user + R"(, "stop": [""]})"
                                    << "stop" << QString();
        QTest::newRow("n = 2") << R"({"model": "m", )" + user + R"(, "n": 2})"
                               << "n"
                               << "unsupported_parameter";
        QTest::newRow("stream_options without stream")
            << R"({"model": "m", )" + user + R"(, "stream_options": {"include_usage": true}})"
            << "stream_options" << QString();
        QTest::newRow("cited pages without a document")
            << R"({"model": "m", )" + user + R"(, "hipreader": {"cited_pages": 2}})"
            << "hipreader.cited_pages" << QString();
    }
    void badBodiesAreRefusedNamingTheField() {
        QFETCH(QByteArray, body);
        QFETCH(QString, param);
        QFETCH(QString, code);
        const ApiError error = chatError(body);
        QCOMPARE(error.status, 400);
        QCOMPARE(error.type, QStringLiteral("invalid_request_error"));
        QCOMPARE(error.param, param);
        if (!code.isEmpty()) QCOMPARE(error.code, code);
        QVERIFY(!error.message.isEmpty());
    }

    void completionRefusals() {
        QCOMPARE(completionError(R"({"model": "m"})").param, QStringLiteral("prompt"));
        QCOMPARE(completionError(R"({"model": "m", "prompt": ["a", "b"]})").param,
                 QStringLiteral("prompt"));
        QCOMPARE(completionError(R"({"model": "m", "prompt": "a", "echo": true})").code,
                 QStringLiteral("unsupported_parameter"));
        // The book extension belongs to chats.
        QCOMPARE(completionError(R"({"model": "m", "prompt": "a", "hipreader": {}})").code,
                 QStringLiteral("unknown_parameter"));
        QCOMPARE(completionError(R"({"model": "m", "prompt": "a", "messages": []})").param,
                 QStringLiteral("messages"));
    }

    void errorBodyIsShapedAsOpenAis() {
        const QJsonObject error =
            QJsonDocument::fromJson(
                serve::errorBody({400, "bad", "invalid_request_error", "stop", {}}))
                .object()
                .value("error")
                .toObject();
        QCOMPARE(error.value("message").toString(), QStringLiteral("bad"));
        QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(error.value("param").toString(), QStringLiteral("stop"));
        QVERIFY(error.value("code").isNull());
    }

    void chunksCarryRoleOnceAndFinishWithUsage() {
        const serve::AnswerHeader header{GenerationRequest::Kind::Chat, "chatcmpl-1", 5, "m"};
        const QJsonObject first =
            QJsonDocument::fromJson(serve::textChunk(header, "Hi", true)).object();
        QCOMPARE(first.value("object").toString(), QStringLiteral("chat.completion.chunk"));
        const QJsonObject delta =
            first.value("choices").toArray()[0].toObject().value("delta").toObject();
        QCOMPARE(delta.value("role").toString(), QStringLiteral("assistant"));
        QCOMPARE(delta.value("content").toString(), QStringLiteral("Hi"));
        const QJsonObject next =
            QJsonDocument::fromJson(serve::textChunk(header, "!", false)).object();
        QVERIFY(!next.value("choices").toArray()[0].toObject().value("delta").toObject().contains(
            "role"));

        serve::GenerationOutcome outcome;
        outcome.text = "Hi!";
        outcome.finishReason = "length";
        outcome.promptTokens = 10;
        outcome.completionTokens = 2;
        outcome.citedPages = {{"iv", 3, 0.5, "a quote"}};
        const QJsonObject last =
            QJsonDocument::fromJson(serve::finishChunk(header, outcome, "book.pdf")).object();
        QCOMPARE(last.value("choices").toArray()[0].toObject().value("finish_reason").toString(),
                 QStringLiteral("length"));
        const QJsonObject cited =
            last.value("hipreader").toObject().value("cited_pages").toArray()[0].toObject();
        QCOMPARE(cited.value("page").toString(), QStringLiteral("iv"));
        QCOMPARE(cited.value("index").toInt(), 3);
        const QJsonObject usage = QJsonDocument::fromJson(serve::usageChunk(header, outcome))
                                      .object()
                                      .value("usage")
                                      .toObject();
        QCOMPARE(usage.value("total_tokens").toInt(), 12);

        const QJsonObject whole =
            QJsonDocument::fromJson(serve::completionBody(header, outcome, {})).object();
        QCOMPARE(whole.value("object").toString(), QStringLiteral("chat.completion"));
        QCOMPARE(whole.value("choices")
                     .toArray()[0]
                     .toObject()
                     .value("message")
                     .toObject()
                     .value("content")
                     .toString(),
                 QStringLiteral("Hi!"));
        QVERIFY(!whole.contains("hipreader"));
        QCOMPARE(serve::serverSentEvent("{}"), QByteArray("data: {}\n\n"));
    }

    void stopSequencesCutAcrossPieces() {
        bool stopped = false;
        QCOMPARE(filtered({"END"}, {"one E", "N", "D two"}, &stopped), std::string("one "));
        QVERIFY(stopped);
        // A near miss is let out once it is known not to be a stop sequence.
        QCOMPARE(filtered({"END"}, {"one EN", "X two"}, &stopped), std::string("one ENX two"));
        QVERIFY(!stopped);
        // The earliest of several stops wins; a stop at the very start leaves nothing.
        QCOMPARE(filtered({"b", "a"}, {"xxab"}), std::string("xx"));
        QCOMPARE(filtered({"\n\n"}, {"\n", "\nrest"}), std::string());
        // Held text is released at the end when no stop follows.
        QCOMPARE(filtered({"ab"}, {"xa"}), std::string("xa"));
        QCOMPARE(filtered({}, {"a", "b"}), std::string("ab"));
        // Nothing held back that cannot start a stop sequence.
        serve::StopSequenceFilter filter({"END"});
        QCOMPARE(filter.feed("abc"), std::string("abc"));
        QCOMPARE(filter.feed("xE"), std::string("x"));
        QCOMPARE(filter.feed("Z"), std::string("EZ"));
    }

    void queueRunsTasksInArrivalOrderOneAtATime() {
        std::mutex mutex;
        std::vector<int> order;
        std::atomic<int> running{0}, most{0};
        {
            serve::RequestQueue queue(100);
            for (int i = 0; i < 20; ++i)
                QVERIFY(queue.push([&, i] {
                    most = std::max(most.load(), ++running);
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    {
                        std::lock_guard lock(mutex);
                        order.push_back(i);
                    }
                    --running;
                }));
            const auto done = [&] {
                std::lock_guard lock(mutex);
                return int(order.size());
            };
            QTRY_COMPARE_WITH_TIMEOUT(done(), 20, 10000);
        }
        for (int i = 0; i < 20; ++i)
            QCOMPARE(order[size_t(i)], i);
        QCOMPARE(most.load(), 1);
    }

    void fullQueueRefusesAndStopDropsWaitingTasks() {
        std::atomic<bool> release{false};
        std::atomic<int> ran{0};
        std::thread releaser;
        {
            serve::RequestQueue queue(2);
            QVERIFY(queue.push([&] {
                while (!release)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                ++ran;
            }));
            QTRY_COMPARE(queue.waiting(), size_t(0)); // the first task runs
            QVERIFY(queue.push([&] { ++ran; }));
            QVERIFY(queue.push([&] { ++ran; }));
            QVERIFY(!queue.push([&] { ++ran; }));
            QCOMPARE(queue.waiting(), size_t(2));
            // The destructor drops the waiting tasks at once, then waits for the running one.
            releaser = std::thread([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                release = true;
            });
        }
        releaser.join();
        QCOMPARE(ran.load(), 1);
    }
};

QTEST_GUILESS_MAIN(TestServeRequests)
#include "test_serve_requests.moc"
