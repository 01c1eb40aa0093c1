// The GUI's data without a model: item models (under QAbstractItemModelTester), the chat store
// and its format, Markdown export, typed settings, and the pure functions the views draw from.

#include "bridge/attention_mask.h"
#include "bridge/attention_summary.h"
#include "bridge/document_prefix.h"
#include "chat/chat_controller.h"
#include "chat/chat_export.h"
#include "chat/chat_model.h"
#include "chat/chat_store.h"
#include "chat/sources_model.h"
#include "document_view/glyph_geometry.h"
#include "document_view/outline_model.h"
#include "document_view/text_search.h"
#include "settings/app_settings.h"
#include "test_ui_support.h"

#include <QAbstractItemModelTester>
#include <QJsonDocument>
#include <QJsonObject>

using namespace hip::ui;

namespace {

// A three-page document: "alpha" on page 0, "Beta  gamma" across a line break on page 1.
hip::doc::DocumentText smallDocument() {
    hip::doc::DocumentText d;
    d.title = QStringLiteral("Small");
    d.text = "alpha one. Beta\ngamma two. delta three.";
    d.pages = {{QStringLiteral("i"), {}, 100, 100, 0, {}},
               {QStringLiteral("ii"), {}, 100, 100, 11, {}},
               {QStringLiteral("1"), {}, 100, 100, 27, {}}};
    for (uint32_t b = 0; b < d.text.size(); ++b)
        if (d.text[b] != ' ' && d.text[b] != '\n') {
            const float x = float(b % 10) / 10.f;
            d.glyphs.push_back({b, {x, 0.1f, x + 0.09f, 0.15f}});
        }
    d.outline = {{QStringLiteral("Part"), 0, 0, -1, -1},
                 {QStringLiteral("Chapter"), 1, 1, 0.5, -1},
                 {QStringLiteral("Section"), 2, 2, -1, -1},
                 {QStringLiteral("Appendix"), 0, 2, -1, -1}};
    return d;
}

ChatMessage answer(const QString& text, std::vector<ChatSource> sources = {}) {
    return {ChatMessage::Role::Assistant, text, QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5)),
            std::move(sources),           {},   false};
}

} // namespace

class TestUiModels : public QObject {
    Q_OBJECT

private slots:
    void chatModelPassesTheTester() {
        ChatModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy content(&model, &ChatModel::contentChanged);
        model.addQuestion(QStringLiteral("Who?"));
        const int row = model.beginAnswer();
        QCOMPARE(row, 1);
        QVERIFY(model.data(model.index(row), ChatModel::StreamingRole).toBool());
        model.appendToAnswer(QStringLiteral("The "));
        model.appendToAnswer(QStringLiteral("keeper."));
        QCOMPARE(model.data(model.index(row)).toString(), QStringLiteral("The keeper."));
        model.setAnswerSources(row, {{2, QStringLiteral("3"), QStringLiteral("q"), 0.5, 1, 2}});
        model.finishAnswer(QStringLiteral("The keeper."), {});
        QVERIFY(!model.data(model.index(row), ChatModel::StreamingRole).toBool());
        QCOMPARE(model.data(model.index(row), ChatModel::SourceCountRole).toInt(), 1);
        QVERIFY(content.count() >= 2);
        QCOMPARE(model.takeLastAnswer(), QStringLiteral("Who?"));
        QCOMPARE(model.rowCount(), 0);
        model.setMessages({answer(QStringLiteral("a")), answer(QStringLiteral("b"))});
        QCOMPARE(model.lastAnswerRow(), 1);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void sourcesAndOutlineModelsPassTheTester() {
        SourcesModel sources;
        QAbstractItemModelTester sourcesTester(
            &sources, QAbstractItemModelTester::FailureReportingMode::QtTest);
        sources.setSources({{4, QStringLiteral("v"), QStringLiteral("a passage"), 0.25, 10, 20},
                            {1, {}, {}, 0.1, 0, 0}});
        QCOMPARE(sources.rowCount(), 2);
        QCOMPARE(sources.data(sources.index(0)).toString(), QStringLiteral("Page v"));
        QCOMPARE(sources.data(sources.index(1)).toString(), QStringLiteral("Page 2"));
        QCOMPARE(sources.data(sources.index(0), SourcesModel::PageRole).toInt(), 4);
        sources.setSources({});
        QCOMPARE(sources.rowCount(), 0);

        OutlineModel outline;
        QAbstractItemModelTester outlineTester(
            &outline, QAbstractItemModelTester::FailureReportingMode::QtTest);
        outline.setOutline(smallDocument().outline);
        QCOMPARE(outline.rowCount(), 2); // Part, Appendix
        const QModelIndex part = outline.index(0, 0);
        QCOMPARE(outline.rowCount(part), 1);
        const QModelIndex chapter = outline.index(0, 0, part);
        QCOMPARE(chapter.data(OutlineModel::PageRole).toInt(), 1);
        QCOMPARE(chapter.data(OutlineModel::TopRole).toDouble(), 0.5);
        QCOMPARE(outline.rowCount(chapter), 1);
    }

    void chatStoreRoundTripsAndKeepsWhatItCannotRead() {
        QTemporaryDir folder;
        ChatStore store(folder.filePath(QStringLiteral("chats")));
        const QString key = QStringLiteral("abc123");
        QVERIFY(store.load(key)->messages.empty()); // nothing saved yet
        SavedChat chat{QStringLiteral("/books/b.pdf"),
                       QStringLiteral("B"),
                       {{ChatMessage::Role::User,
                         QStringLiteral("Q?"),
                         QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5)),
                         {},
                         {},
                         false},
                        answer(QStringLiteral("**A**"),
                               {{3, QStringLiteral("iv"), QStringLiteral("quote"), 0.4, 5, 9}})}};
        QVERIFY(store.save(key, chat).isOk());
        auto loaded = store.load(key);
        QVERIFY(loaded.isOk());
        QCOMPARE(loaded->documentTitle, QStringLiteral("B"));
        QCOMPARE(loaded->messages.size(), size_t(2));
        QCOMPARE(loaded->messages[1], chat.messages[1]);

        // A file from a newer version is set aside, not overwritten.
        QFile newer(store.pathFor(key));
        QVERIFY(newer.open(QIODevice::WriteOnly | QIODevice::Truncate));
        newer.write(QJsonDocument(QJsonObject{{"format", ChatStore::kFormatName}, {"version", 99}})
                        .toJson());
        newer.close();
        auto refused = store.load(key);
        QVERIFY(!refused.isOk());
        QVERIFY(refused.message().find("newer HiP Reader") != std::string::npos);
        QVERIFY(!QFile::exists(store.pathFor(key)));
        QCOMPARE(QDir(store.folder()).entryList({QStringLiteral("*.unreadable-*")}).size(), 1);

        // A damaged file likewise.
        QFile damaged(store.pathFor(key));
        QVERIFY(damaged.open(QIODevice::WriteOnly));
        damaged.write("{ not json");
        damaged.close();
        auto broken = store.load(key);
        QVERIFY(!broken.isOk());
        QVERIFY(broken.message().find("damaged") != std::string::npos);
    }

    void documentKeyIsTheContentHash() {
        QTemporaryDir folder;
        QFile file(folder.filePath(QStringLiteral("x.txt")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("abc");
        file.close();
        QCOMPARE(
            *ChatStore::documentKey(file.fileName()),
            QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QVERIFY(!ChatStore::documentKey(folder.filePath(QStringLiteral("missing"))).isOk());
    }

    void exportNamesThePages() {
        const QString markdown =
            chatToMarkdown(QStringLiteral("Book"),
                           {{ChatMessage::Role::User, QStringLiteral("Why?"), {}, {}, {}, false},
                            answer(QStringLiteral("Because."),
                                   {{11, QStringLiteral("12"),
                                     QStringLiteral("the \"reason\"\nhere"), 0.31, 0, 1}})});
        QVERIFY(markdown.contains(QStringLiteral("# Questions about \"Book\"")));
        QVERIFY(markdown.contains(QStringLiteral("## Question\n\nWhy?")));
        QVERIFY(markdown.contains(QStringLiteral("page 12 (31% of the attention)")));
        QVERIFY(!markdown.contains(QStringLiteral("reason\"\n"))); // quotes stay on one line
    }

    void settingsPersist() {
        QTemporaryDir folder;
        const QString ini = folder.filePath(QStringLiteral("s.ini"));
        {
            AppSettings settings(ini);
            QCOMPARE(settings.attentionPreset(), QStringLiteral("hip-3k")); // the default
            settings.setModelPath(QStringLiteral("/m/model.gguf"));
            settings.setDevice(DevicePreference::Cpu);
            settings.setAttentionPreset(QStringLiteral("hip-5k"));
            settings.setContextTokens(65536);
            settings.setGpuMemoryBudgetMiB(6144);
            hip::GenerateOptions options;
            options.sampler.temperature = 0.5f;
            options.maxTokens = 99;
            settings.setGenerateOptions(options);
            for (int i = 0; i < AppSettings::kMaxRecentFiles + 3; ++i)
                settings.addRecentFile(QStringLiteral("/books/%1.pdf").arg(i));
            settings.sync();
        }
        AppSettings again(ini);
        QCOMPARE(again.modelPath(), QStringLiteral("/m/model.gguf"));
        QCOMPARE(again.device(), DevicePreference::Cpu);
        QCOMPARE(again.attentionPreset(), QStringLiteral("hip-5k"));
        QCOMPARE(again.contextTokens(), qint64(65536));
        QCOMPARE(again.gpuMemoryBudgetMiB(), qint64(6144));
        QCOMPARE(again.generateOptions().sampler.temperature, 0.5f);
        QCOMPARE(again.generateOptions().maxTokens, 99);
        QCOMPARE(again.recentFiles().size(), AppSettings::kMaxRecentFiles);
        QCOMPARE(again.recentFiles().front(), QStringLiteral("/books/12.pdf"));
        const hip::LoadOptions load = again.loadOptions();
        QCOMPARE(load.device, hip::Device::Cpu);
        QCOMPARE(load.contextTokens, 65536);
        QCOMPARE(load.gpuMemoryBudget, uint64_t(0)); // the budget is for the GPU only
        again.setDevice(DevicePreference::Auto);
        QCOMPARE(again.loadOptions().device, hip::Device::Automatic);
        QCOMPARE(again.loadOptions().gpuMemoryBudget, uint64_t(6144) << 20);
        again.setDevice(DevicePreference::Gpu);
        QCOMPARE(again.loadOptions().device, hip::Device::Cuda);
        QCOMPARE(QString::fromStdString(load.attention.name), QStringLiteral("hip-5k"));
        // An unknown preset (from a later version) falls back instead of breaking the load.
        again.setAttentionPreset(QStringLiteral("hip-from-the-future"));
        QCOMPARE(again.attentionPreset(), QStringLiteral("hip-3k"));
    }

    void searchMatchesAcrossLineBreaksAndCase() {
        const hip::doc::DocumentText d = smallDocument();
        const auto hits = findAll(d, QStringLiteral("beta GAMMA"), Qt::CaseInsensitive);
        QCOMPARE(hits.size(), size_t(1));
        QCOMPARE(d.text.substr(hits[0].begin, hits[0].end - hits[0].begin),
                 std::string("Beta\ngamma"));
        QVERIFY(findAll(d, QStringLiteral("beta gamma"), Qt::CaseSensitive).empty());
        QCOMPARE(findAll(d, QStringLiteral("e"), Qt::CaseInsensitive).size(), size_t(5));
    }

    void glyphGeometryMergesLinesAndFindsCharacters() {
        const hip::doc::DocumentText d = smallDocument();
        const auto page = glyphsIn(d.glyphs, d.pageRange(0));
        const auto boxes = lineBoxes(page, {0, 5}); // "alpha": one stretch
        QCOMPARE(boxes.size(), size_t(1));
        QCOMPARE(boxes[0].left, 0.0f);
        QVERIFY(std::abs(boxes[0].right - 0.49f) < 1e-5f);
        QCOMPARE(*byteNear(page, QPointF(0.01, 0.12), d.pageRange(0).end), uint64_t(0));
        QCOMPARE(*byteNear(page, QPointF(0.08, 0.9), d.pageRange(0).end),
                 uint64_t(1)); // right half: after
    }

    void prefixKeepsWholePages() {
        const hip::doc::DocumentText d = smallDocument();
        const hip::doc::DocumentText two = firstPages(d, 2);
        QCOMPARE(two.pages.size(), size_t(2));
        QCOMPARE(two.text, d.text.substr(0, 27));
        QVERIFY(two.glyphs.back().byte < 27);
        QCOMPARE(two.outline.size(), size_t(2));
    }

    void pageHeatSumsToOne() {
        const hip::doc::DocumentText d = smallDocument();
        hip::IngestResult ingest;
        ingest.firstDocumentToken = 3;
        ingest.documentTokens = {{0, 6}, {6, 11}, {11, 16}, {16, 27}, {27, 40}};
        const hip::doc::DocumentTokens tokens(ingest);
        const std::vector<float> weights = {9, 9, 9, 1, 1, 2, 0, 4}; // positions 0-2 are the header
        const std::vector<float> heat = pageHeat(d, tokens, weights);
        QCOMPARE(heat.size(), size_t(3));
        QCOMPARE(heat[0], 0.25f);
        QCOMPARE(heat[1], 0.25f);
        QCOMPARE(heat[2], 0.5f);
    }

    void maskTakesOneLayersSelections() {
        hip::AttentionTrace trace;
        trace.tokens.push_back({100, {{}, {{0, 25}, {50, 75}}}});
        trace.tokens.push_back({101, {{}, {{25, 50}, {90, 120}}}});
        MaskRequest request;
        request.layer = 1;
        request.contextTokens = 100;
        request.attention = *hip::AttentionConfig::preset("hip-3k");
        request.pageStarts = {10, 60};
        const AttentionMask mask = layerMask(trace, request);
        QCOMPARE(mask.queries, (std::vector<int64_t>{100, 101}));
        QCOMPARE(mask.ranges, (std::vector<std::vector<hip::KeyRange>>{
                                  {{0, 25}, {50, 75}}, {{25, 50}, {90, 100}}})); // clipped
        QCOMPARE(mask.pageStarts, request.pageStarts);
        QVERIFY(!mask.denseLayer);
        request.layer = 0;
        QVERIFY(layerMask(trace, request).denseLayer);
        request.attention = hip::AttentionConfig{};
        QVERIFY(!layerMask(trace, request).note.isEmpty()); // dense preset: explained
    }

    void sourcesComeFromTheAttendedPages() {
        AttentionSummary summary;
        hip::doc::PageAttention page;
        page.page = 4;
        page.label = QStringLiteral("5");
        page.weight = 0.6;
        page.passages.push_back(
            {4, QStringLiteral("5"), {10, 30}, {}, 0.5, QStringLiteral("the passage")});
        summary.pages.push_back(page);
        const auto sources = ChatController::sourcesOf(summary);
        QCOMPARE(sources.size(), size_t(1));
        QCOMPARE(sources[0],
                 (ChatSource{4, QStringLiteral("5"), QStringLiteral("the passage"), 0.6, 10, 30}));
    }

    // What the model is given of a chat (restored, or before a regenerated answer): questions
    // with their finished answers, stopped ones as far as they got, nothing unanswered.
    void chatTurnsPairQuestionsWithTheirAnswers() {
        using Role = ChatMessage::Role;
        const QDateTime now = QDateTime::currentDateTime();
        auto message = [&](Role role, const char* text, bool streaming = false) {
            return ChatMessage{role, QString::fromUtf8(text), now, {}, {}, streaming};
        };
        const std::vector<ChatMessage> messages = {
            message(Role::User, "Who keeps the lighthouse?"),
            message(Role::Assistant, "The keeper of Wendle."),
            message(Role::User, "Unanswered (the answer failed before any text)."),
            message(Role::User, "Stopped early?"),
            message(Role::Assistant, "It was stop"),
            message(Role::User, "Empty answer?"),
            message(Role::Assistant, ""),
            message(Role::User, "Still being written?"),
            message(Role::Assistant, "Half", true),
        };
        const ChatTurns turns = ChatController::turnsOf(messages);
        QCOMPARE(turns.size(), size_t(4));
        QCOMPARE(turns[0].role, std::string("user"));
        QCOMPARE(turns[0].content, std::string("Who keeps the lighthouse?"));
        QCOMPARE(turns[1].role, std::string("assistant"));
        QCOMPARE(turns[1].content, std::string("The keeper of Wendle."));
        QCOMPARE(turns[2].content, std::string("Stopped early?"));
        QCOMPARE(turns[3].content, std::string("It was stop"));
        QVERIFY(ChatController::turnsOf({}).empty());
    }
};

QTEST_MAIN(TestUiModels)
#include "test_ui_models.moc"
