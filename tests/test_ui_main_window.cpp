// The whole window with the default model on the CPU, as a person uses it: open a generated PDF,
// the model loads and reads it, a question about a fact on a known page is answered as a stream,
// the sources list that page, clicking the source scrolls there; regenerating replaces the answer
// in the chat and in the model; the memory gauge moves while the book is read; stopping an answer
// and a reading; closing the window while it answers; the chat coming back after a restart, into
// the model too; the first run in Automatic device mode (no GPU in CI, yet a CUDA build) and a
// refused load; and the messages for a missing model and a damaged PDF.

#include "bridge/engine_bridge.h"
#include "chat/chat_controller.h"
#include "chat/chat_model.h"
#include "chat/chat_panel.h"
#include "chat/sources_model.h"
#include "common/resources.h"
#include "document_view/document_view.h"
#include "main_window/activity_bar.h"
#include "main_window/context_meter.h"
#include "main_window/main_window.h"
#include "main_window/reading_controller.h"
#include "memory/memory_gauge.h"
#include "test_ui_support.h"

#ifdef HIPREADER_HAS_CUDA
#include "backend/cuda/cuda_device.h"
#endif

#include <QElapsedTimer>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>

using namespace hip::ui;

namespace {

const int kModelSeconds = uitest::modelSeconds(120);

// Asks through the chat panel, as typing and pressing Enter would.
void typeQuestion(MainWindow& window, const QString& question) {
    QPlainTextEdit* field = window.chatPanel()->questionField();
    field->setFocus();
    field->setPlainText(question);
    QTest::keyClick(field, Qt::Key_Return);
}

int rowOfPage(const SourcesModel& sources, int page) {
    for (int row = 0; row < sources.rowCount(); ++row)
        if (sources.source(row).page == page) return row;
    return -1;
}

// The conversation the model sees now (asked of the engine thread, after what was queued before).
ChatTurns modelHistory(EngineBridge& bridge) {
    QSignalSpy reported(&bridge, &EngineBridge::historyReported);
    bridge.requestHistory();
    if (!reported.wait(10000)) qFatal("the engine did not report its conversation");
    return reported.at(0).at(0).value<ChatTurns>();
}

QStringList describe(const ChatTurns& turns) {
    QStringList lines;
    for (const hip::ChatTurn& turn : turns)
        lines << QString::fromStdString(turn.role + ": " + turn.content);
    return lines;
}

bool sameTurns(const ChatTurns& a, const ChatTurns& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.role == y.role && x.content == y.content;
    });
}

// Whether the engine can use a GPU here: Automatic must pick it for a dense model that fits.
bool usableGpu() {
#ifdef HIPREADER_HAS_CUDA
    return bool(hip::backend::queryCudaDevice(hip::backend::defaultCudaDevice()));
#else
    return false;
#endif
}

// A book of `sections` pages of varied prose, about 250 tokens each, with one fact on the last
// page.
QString writeLongBook(const QTemporaryDir& folder, int sections) {
    const QStringList subjects = {"The miller",          "A traveller",  "The old teacher",
                                  "Her brother",         "The ferryman", "A clerk from the city",
                                  "The baker's daughter"};
    const QStringList verbs = {
        "walked along",         "painted",    "counted the boats on", "sang about",
        "wrote a letter about", "remembered", "swept the steps of"};
    const QStringList places = {"the northern canal", "the grey orchard",
                                "the stone bridge",   "the market hall",
                                "the windmill",       "the chapel of Saint Ives",
                                "the salt marsh",     "the lighthouse road"};
    const QStringList times = {"before sunrise", "in the rain",         "after the harvest",
                               "on a Tuesday",   "when the bells rang", "late in autumn"};
    std::vector<hip::doc::BookSection> book;
    uint32_t state = 12345;
    const auto pick = [&](const QStringList& words) {
        state = state * 1664525u + 1013904223u;
        return words[int((state >> 8) % uint32_t(words.size()))];
    };
    for (int s = 0; s < sections; ++s) {
        QStringList paragraphs;
        for (int p = 0; p < 3; ++p) {
            QString paragraph;
            for (int sentence = 0; sentence < 6; ++sentence)
                paragraph += QStringLiteral("%1 %2 %3 %4. ")
                                 .arg(pick(subjects), pick(verbs), pick(places), pick(times));
            paragraphs << paragraph.trimmed();
        }
        if (s == sections - 1)
            paragraphs << QStringLiteral("The keeper of the lighthouse owns a ginger cat named "
                                         "Marmalade.");
        book.push_back({QStringLiteral("Chapter %1").arg(s + 1), paragraphs});
    }
    const QString path = folder.filePath(QStringLiteral("long-book.pdf"));
    const hip::Status written = hip::doc::writeBookPdf(path, QStringLiteral("A Long Year"), book);
    if (!written) qFatal("%s", written.message().c_str());
    return path;
}

} // namespace

class TestUiMainWindow : public QObject {
    Q_OBJECT

    QTemporaryDir folder_;
    QString book_;
    QString chats_;
    std::unique_ptr<AppSettings> settings_;
    std::unique_ptr<MainWindow> window_;

    std::unique_ptr<MainWindow> newWindow(AppSettings& settings) {
        auto window = std::make_unique<MainWindow>(settings, chats_);
        window->setQuestionHandler(
            [](const QString&, const QString&, const QString&) { return true; });
        window->resize(1300, 850);
        window->show();
        return window;
    }

    // A window that answers every question No and keeps its text in `questions`.
    std::unique_ptr<MainWindow> newWindowDeclining(AppSettings& settings, QStringList& questions) {
        auto window = newWindow(settings);
        window->setQuestionHandler(
            [&questions](const QString&, const QString& text, const QString&) {
                questions << text;
                return false;
            });
        return window;
    }

private slots:
    void initTestCase() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        initResources();
        book_ = uitest::writeBook(folder_);
        chats_ = folder_.filePath(QStringLiteral("chats"));
        settings_ = std::make_unique<AppSettings>(folder_.filePath(QStringLiteral("settings.ini")));
        uitest::configureFastModel(*settings_);
        window_ = newWindow(*settings_);
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
        QSignalSpy opened(window_.get(), &MainWindow::documentOpened);
        window_->loadModel();
        window_->openFile(book_);
        QVERIFY(opened.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(window_->reading().isRead(), kModelSeconds * 1000);
        QCOMPARE(window_->contextMeter()->capacity(), qint64(2048));
        QVERIFY(window_->contextMeter()->documentTokens() > 100);
        QVERIFY(!window_->memoryGauge()->history().isEmpty());
    }

    void answerStreamsInWithItsSources() {
        MainWindow& w = *window_;
        QSignalSpy text(&w.bridge(), &EngineBridge::answerText);
        QSignalSpy finished(&w.bridge(), &EngineBridge::answerFinished);
        typeQuestion(w, QStringLiteral("What is the name of the lighthouse cat?"));
        QVERIFY(w.chat().isAnswering());
        QVERIFY(w.chatPanel()->questionField()->toPlainText().isEmpty());
        // The answer streams: text arrives while the message is still being written.
        QVERIFY(text.wait(kModelSeconds * 1000));
        const int answerRow = w.chatModel().rowCount() - 1;
        QVERIFY(w.chatModel().message(answerRow).streaming);
        QVERIFY(!w.chatModel().message(answerRow).text.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kModelSeconds * 1000);
        QVERIFY(!w.chat().isAnswering());
        const ChatMessage& answer = w.chatModel().message(answerRow);
        QVERIFY(!answer.streaming);
        QVERIFY(!answer.text.trimmed().isEmpty());

        // The sources are listed beside the chat.
        const SourcesModel& sources = *w.chatPanel()->sourcesModel();
        // The page with the cat is the answer's first source (the heaviest): greedy decoding on the
        // CPU is deterministic, and the small default model attends there even when its words
        // miss the name.
        QVERIFY(sources.rowCount() > 0);
        QCOMPARE(sources.source(0).page, uitest::kCatPage);
        QVERIFY(sources.source(0).quote.contains(QStringLiteral("Marmalade")));
        QCOMPARE(answer.sources.size(), size_t(sources.rowCount()));
    }

    void clickingASourceScrollsToItsPassage() {
        MainWindow& w = *window_;
        w.documentView()->scrollToPage(0);
        QCOMPARE(w.documentView()->currentPage(), 0);
        QListView* list = w.chatPanel()->sourcesView();
        const int row = rowOfPage(*w.chatPanel()->sourcesModel(), uitest::kCatPage);
        QVERIFY(row >= 0);
        const QRect item = list->visualRect(list->model()->index(row, 0));
        QVERIFY(item.isValid());
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, item.center());
        QCOMPARE(w.documentView()->currentPage(), uitest::kCatPage);
        QVERIFY(w.documentView()->passage().has_value());
    }

    void regenerateReplacesTheAnswerInTheChatAndInTheModel() {
        MainWindow& w = *window_;
        QCOMPARE(w.chatModel().rowCount(), 2);
        QCOMPARE(modelHistory(w.bridge()).size(), size_t(2));
        const QString question = w.chatModel().message(0).text;
        QSignalSpy finished(&w.bridge(), &EngineBridge::answerFinished);
        QVERIFY(w.chat().regenerate());
        QVERIFY(w.chat().isAnswering());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kModelSeconds * 1000);
        const auto outcome = finished.at(0).at(0).value<AnswerOutcome>();

        // The chat: the same question, its new answer in place of the old one.
        QCOMPARE(w.chatModel().rowCount(), 2);
        QCOMPARE(w.chatModel().message(0).text, question);
        QVERIFY(!w.chatModel().message(1).streaming);
        QCOMPARE(w.chatModel().message(1).text, outcome.text);

        // The model: one exchange, the new one; the old answer is gone from its conversation.
        const ChatTurns turns = modelHistory(w.bridge());
        QVERIFY2(turns.size() == 2, qPrintable(describe(turns).join(QLatin1Char('\n'))));
        QCOMPARE(QString::fromStdString(turns[0].content), question);
        QCOMPARE(QString::fromStdString(turns[1].content), outcome.text);
        // The KV cache was kept: the book and the question were not prefilled again.
        QVERIFY(outcome.stats.reusedTokens > w.contextMeter()->documentTokens());
    }

    void memoryGaugeMovesWhileTheBookIsRead() {
        MainWindow& w = *window_;
        // Samples come from a timer on the GUI thread, not from the reading's progress: at a fast
        // rate, many arrive while one prefill chunk runs on the engine thread.
        w.bridge().setMemorySampleInterval(10);
        int duringRead = 0;
        const QMetaObject::Connection counting =
            connect(&w.bridge(), &EngineBridge::memorySampled, this, [&] {
                if (w.bridge().busyWith() == Operation::ReadDocument) ++duringRead;
            });
        QSignalSpy progress(&w.bridge(), &EngineBridge::readingProgress);
        // The history keeps its last 120 samples, so it may be full already: count the new ones by
        // time.
        const MemoryHistory& history = w.memoryGauge()->history();
        const qint64 lastBefore = history.isEmpty() ? 0 : history.latest().msecsSinceEpoch;
        QElapsedTimer reading;
        reading.start();
        w.reading().start();
        QTRY_VERIFY_WITH_TIMEOUT(w.bridge().busyWith() == Operation::ReadDocument,
                                 kModelSeconds * 1000);
        QTRY_VERIFY_WITH_TIMEOUT(w.reading().isRead(), kModelSeconds * 1000);
        disconnect(counting);
        w.bridge().setMemorySampleInterval(EngineBridge::kMemorySampleMs);
        qInfo("read in %lld ms: %d memory samples, %lld progress reports", reading.elapsed(),
              duringRead, qlonglong(progress.count()));
        QVERIFY2(duringRead >= 3, qPrintable(QString::number(duringRead)));
        QVERIFY(duringRead > progress.count());
        QVERIFY(!history.isEmpty());
        QVERIFY(history.latest().msecsSinceEpoch > lastBefore);
        QVERIFY(history.latest().report.kvHostBytes > 0);
    }

    void escapeStopsAnAnswer() {
        MainWindow& w = *window_;
        hip::GenerateOptions options = settings_->generateOptions();
        options.maxTokens = 400;
        settings_->setGenerateOptions(options);
        QSignalSpy text(&w.bridge(), &EngineBridge::answerText);
        typeQuestion(w, QStringLiteral("Tell me everything about the market, at length."));
        QVERIFY(text.wait(kModelSeconds * 1000));
        QTest::keyClick(&w, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(!w.chat().isAnswering(), 30000);
        const ChatMessage& stopped = w.chatModel().message(w.chatModel().rowCount() - 1);
        QCOMPARE(stopped.note, QStringLiteral("stopped"));
        options.maxTokens = 24;
        settings_->setGenerateOptions(options);
    }

    void exportNamesTheSourcePages() {
        const QString path = folder_.filePath(QStringLiteral("chat.md"));
        QVERIFY(window_->chat().exportMarkdown(path).isOk());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString markdown = QString::fromUtf8(file.readAll());
        QVERIFY(markdown.contains(QStringLiteral("What is the name of the lighthouse cat?")));
        QVERIFY(markdown.contains(QStringLiteral("- page %1 (").arg(uitest::kCatPage + 1)));
    }

    void cancellingTheReadingSaysTheBookIsNotIn() {
        MainWindow& w = *window_;
        QSignalSpy progress(&w.reading(), &ReadingController::progress);
        QSignalSpy cancelled(&w.reading(), &ReadingController::cancelled);
        w.reading().start();
        QVERIFY(progress.wait(kModelSeconds * 1000));
        QVERIFY(w.activityBar()->cancelButton()->isVisible());
        QTest::mouseClick(w.activityBar()->cancelButton(), Qt::LeftButton);
        QVERIFY(cancelled.count() == 1 || cancelled.wait(30000));
        QVERIFY(!w.reading().isRead());
        QVERIFY(w.activityBar()->text().contains(QStringLiteral("not in the model")));
        // Read it again for what follows.
        w.reading().start();
        QTRY_VERIFY_WITH_TIMEOUT(w.reading().isRead(), kModelSeconds * 1000);
    }

    void closingWhileAnsweringStopsCleanly() {
        MainWindow& w = *window_;
        hip::GenerateOptions options = settings_->generateOptions();
        options.maxTokens = 400;
        settings_->setGenerateOptions(options);
        QSignalSpy text(&w.bridge(), &EngineBridge::answerText);
        typeQuestion(w, QStringLiteral("Describe the school."));
        QVERIFY(text.wait(kModelSeconds * 1000));
        QVERIFY(!w.close()); // refused for now: the engine is stopped first
        QTRY_VERIFY_WITH_TIMEOUT(!w.isVisible(), 30000);
        QVERIFY(!w.bridge().isBusy());
        options.maxTokens = 24;
        settings_->setGenerateOptions(options);
        window_.reset();
    }

    void chatComesBackAfterARestart() {
        const std::vector<ChatMessage> before = [&] {
            ChatStore store(chats_);
            return store.load(*ChatStore::documentKey(book_))->messages;
        }();
        QVERIFY(before.size() >= 4);
        auto window = newWindow(*settings_);
        QSignalSpy opened(window.get(), &MainWindow::documentOpened);
        window->openFile(book_);
        QVERIFY(opened.wait(20000));
        QCOMPARE(window->chatModel().rowCount(), int(before.size()));
        QCOMPARE(window->chatModel().message(1).text, before[1].text);
        QCOMPARE(window->chatModel().message(1).sources, before[1].sources);

        // Once the model has read the book, it sees the saved chat: questions and their answers,
        // the stopped ones as far as they got.
        window->loadModel();
        QTRY_VERIFY_WITH_TIMEOUT(window->reading().isRead(), kModelSeconds * 1000);
        const ChatTurns saved = ChatController::turnsOf(before);
        QVERIFY(saved.size() >= 4);
        ChatTurns turns = modelHistory(window->bridge());
        QVERIFY2(sameTurns(turns, saved), qPrintable(describe(turns).join(QLatin1Char('\n'))));

        // A follow-up question comes after them.
        hip::GenerateOptions options = settings_->generateOptions();
        options.maxTokens = 4; // an answer is all this needs
        settings_->setGenerateOptions(options);
        QSignalSpy finished(&window->bridge(), &EngineBridge::answerFinished);
        typeQuestion(*window, QStringLiteral("Who rings the brass bell?"));
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kModelSeconds * 1000);
        options.maxTokens = 24;
        settings_->setGenerateOptions(options);
        turns = modelHistory(window->bridge());
        QCOMPARE(turns.size(), saved.size() + 2);
        QVERIFY(
            sameTurns(ChatTurns(turns.begin(), turns.begin() + ptrdiff_t(saved.size())), saved));
        QCOMPARE(turns[saved.size()].content, std::string("Who rings the brass bell?"));
    }

    void aLongSavedChatGoesIntoTheModelAsFarAsItFits() {
        // 40 exchanges of about 100 tokens: far more than a context of 512 keeps beside the book.
        AppSettings settings(folder_.filePath(QStringLiteral("small-context.ini")));
        uitest::configureFastModel(settings);
        settings.setContextTokens(512);
        hip::GenerateOptions options = settings.generateOptions();
        options.maxTokens = 4; // an answer is all this needs
        settings.setGenerateOptions(options);
        const QString chats = folder_.filePath(QStringLiteral("long-chats"));
        std::vector<ChatMessage> messages;
        for (int i = 0; i < 40; ++i) {
            const QDateTime now = QDateTime::currentDateTime();
            messages.push_back(
                {ChatMessage::Role::User,
                 QStringLiteral("Question %1: what happens when the tide turns?").arg(i),
                 now,
                 {},
                 {},
                 false});
            messages.push_back(
                {ChatMessage::Role::Assistant,
                 QStringLiteral("Answer %1: ").arg(i) +
                     QStringLiteral("the harbour master rings a brass bell. ").repeated(6),
                 now,
                 {},
                 {},
                 false});
        }
        QVERIFY(ChatStore(chats)
                    .save(*ChatStore::documentKey(book_),
                          {book_, QStringLiteral("A Week in Wendle"), messages})
                    .isOk());

        MainWindow window(settings, chats);
        window.setQuestionHandler(
            [](const QString&, const QString&, const QString&) { return true; });
        QSignalSpy notices(&window.bridge(), &EngineBridge::notice);
        QSignalSpy opened(&window, &MainWindow::documentOpened);
        window.openFile(book_);
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.chatModel().rowCount(), 80);
        window.loadModel();
        QTRY_VERIFY_WITH_TIMEOUT(window.reading().isRead(), kModelSeconds * 1000);

        // The newest exchanges, whole, and a notice that the earlier ones are not in the model.
        const ChatTurns all = ChatController::turnsOf(messages);
        const ChatTurns turns = modelHistory(window.bridge());
        QVERIFY2(turns.size() >= 2 && turns.size() < all.size(),
                 qPrintable(QString::number(turns.size())));
        QCOMPARE(turns.size() % 2, size_t(0));
        QVERIFY(sameTurns(turns, ChatTurns(all.end() - ptrdiff_t(turns.size()), all.end())));
        QVERIFY(std::any_of(notices.begin(), notices.end(), [](const QList<QVariant>& args) {
            return args.at(0).toString().contains(QStringLiteral("saved chat"));
        }));

        // A question still has room in the context.
        QSignalSpy finished(&window.bridge(), &EngineBridge::answerFinished);
        QSignalSpy failed(&window.bridge(), &EngineBridge::failed);
        QVERIFY(window.chat().ask(QStringLiteral("Who rings the brass bell?")));
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kModelSeconds * 1000);
        QCOMPARE(failed.count(), 0);
        QVERIFY(finished.at(0).at(0).value<AnswerOutcome>().stats.generatedTokens > 0);
    }

    // The README's first run: nothing chosen but Automatic device. The model loads where it will
    // run, without a question: on a machine without a GPU (CI, also with a CUDA build) the CPU.
    void automaticDeviceLoadsWithoutAQuestion() {
        AppSettings settings(folder_.filePath(QStringLiteral("automatic.ini")));
        uitest::configureFastModel(settings);
        settings.setDevice(DevicePreference::Auto);
        QStringList questions;
        auto window = newWindowDeclining(settings, questions);
        QSignalSpy loaded(&window->bridge(), &EngineBridge::modelLoaded);
        window->loadModel();
        QCOMPARE(window->modelStatus(), QStringLiteral("Loading the model…"));
        QVERIFY(loaded.wait(kModelSeconds * 1000));
        QVERIFY2(questions.isEmpty(), qPrintable(questions.join(QLatin1Char('\n'))));
        const ModelSummary model = loaded.at(0).at(0).value<ModelSummary>();
        QCOMPARE(model.onGpu, usableGpu());
        if (!model.onGpu)
            QVERIFY2(model.device.startsWith(QStringLiteral("CPU")), qPrintable(model.device));
        QVERIFY(window->modelStatus().contains(model.device));
    }

    // A load the user declines (the estimate does not fit) ends with the reason and the status
    // bar saying no model is loaded, never "Loading the model…".
    void aRefusedLoadDoesNotStayLoading() {
        AppSettings settings(folder_.filePath(QStringLiteral("refused.ini")));
        uitest::configureFastModel(settings);
        settings.setDevice(DevicePreference::Auto);
        settings.setContextTokens(qint64(1) << 30); // a KV cache of terabytes
        auto window = newWindow(settings);
        int questions = 0;
        window->setQuestionHandler([&](const QString&, const QString& text, const QString&) {
            ++questions;
            return !text.contains(QStringLiteral("will not fit"));
        });
        window->loadModel();
        QTRY_VERIFY_WITH_TIMEOUT(
            window->activityBar()->text().contains(QStringLiteral("not loaded")), 20000);
        QCOMPARE(questions, 1);
        QCOMPARE(window->modelStatus(), QStringLiteral("No model"));
        QVERIFY(!window->bridge().hasModel());
        QVERIFY(!window->bridge().isBusy());
    }

    // A book longer than the model's trained context (8,192 tokens) with the default settings
    // (HiP, automatic context): no question; the model loads again with a context that holds the
    // book and the conversation, the estimate shown first, and reading starts. Reading it all
    // takes minutes with HiP on two cores, so the test stops once it runs.
    void aLongBookGetsAContextThatHoldsIt() {
        AppSettings settings(folder_.filePath(QStringLiteral("long.ini")));
        uitest::configureFastModel(settings);
        settings.setDevice(DevicePreference::Auto);
        settings.setAttentionPreset(QStringLiteral("hip-3k"));
        settings.setContextTokens(0);
        QStringList questions;
        auto window = newWindowDeclining(settings, questions);
        QSignalSpy loaded(&window->bridge(), &EngineBridge::modelLoaded);
        QSignalSpy reading(&window->bridge(), &EngineBridge::readingProgress);
        window->loadModel();
        QVERIFY(loaded.wait(kModelSeconds * 1000));
        QCOMPARE(loaded.at(0).at(0).value<ModelSummary>().contextTokens, qint64(8192));
        window->openFile(writeLongBook(folder_, 36));
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, kModelSeconds * 1000);
        const ModelSummary longer = loaded.at(1).at(0).value<ModelSummary>();
        // The new model counts the book again for the context meter.
        QTRY_VERIFY_WITH_TIMEOUT(window->contextMeter()->documentTokens() > 0,
                                 kModelSeconds * 1000);
        const qint64 bookTokens = window->contextMeter()->documentTokens();
        QVERIFY2(bookTokens > 8192, qPrintable(QString::number(bookTokens)));
        QCOMPARE(longer.attention.mode, hip::AttentionConfig::Mode::Hip);
        QVERIFY(hip::documentFits(bookTokens, longer.contextTokens));
        QVERIFY(longer.contextTokens >= bookTokens + hip::kConversationTokens);
        // The plan and its estimate, as the activity bar showed them before the load.
        const QString details = window->modelDetails();
        QVERIFY2(details.contains(QStringLiteral("loading the model again with hip-3k")) &&
                     details.contains(QStringLiteral("needs about")),
                 qPrintable(details));
        QVERIFY(reading.wait(kModelSeconds * 1000));
        QVERIFY2(questions.isEmpty(), qPrintable(questions.join(QLatin1Char('\n'))));
        window->bridge().cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!window->bridge().isBusy(), kModelSeconds * 1000);
    }

    void missingModelSaysWhatToDo() {
        AppSettings settings(folder_.filePath(QStringLiteral("missing.ini")));
        uitest::configureFastModel(settings);
        settings.setModelPath(folder_.filePath(QStringLiteral("no-such-model.gguf")));
        auto window = newWindow(settings);
        window->loadModel();
        QTRY_VERIFY_WITH_TIMEOUT(
            window->activityBar()->text().contains(QStringLiteral("does not exist")), 20000);
        QVERIFY(window->activityBar()->text().contains(QStringLiteral("Settings")));
        QVERIFY(!window->bridge().hasModel());
        QCOMPARE(window->modelStatus(), QStringLiteral("No model"));
    }

    void damagedPdfSaysItCannotBeOpened() {
        auto window = newWindow(*settings_);
        window->openFile(uitest::writeDamagedPdf(folder_));
        QTRY_VERIFY_WITH_TIMEOUT(
            window->activityBar()->text().contains(QStringLiteral("could not be opened")), 20000);
        QVERIFY(!window->document().has_value());
    }
};

QTEST_MAIN(TestUiMainWindow)
#include "test_ui_main_window.moc"
