// A generated PDF through the real engine (the default model on the CPU): ingest with progress,
// every page's sentences map to tokens and back to the same page and boxes, the answer's
// attention lands on pages of the document, a document that does not fit says how much would,
// cancel works; and `hipreader-cli ask --doc` end to end.

#include "test_document_writer.h"
#include "test_support.h"

#include "document/document_ingest.h"
#include "document/document_reader.h"
#include "document/passage_finder.h"

#include <hip/engine.h>

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

using hip::doc::DocumentText;
using hiptest::TestPdfWriter;

namespace {

const QList<QStringList> kPages = {
    {QStringLiteral("Herons nest in the tall alders above the weir."),
     QStringLiteral("They return to the same trees every March.")},
    {QStringLiteral("Eels swim downstream to the sea in autumn."),
     QStringLiteral("Nobody in the village has ever seen them spawn.")},
    {QStringLiteral("Otters came back to the river ten years ago."),
     QStringLiteral("Their tracks mark the sandbanks below the mill.")}};

// Two sentences per page on lines of their own, page numbers at the foot.
QString writeRiverPdf(const QTemporaryDir& dir) {
    const QString path = dir.filePath(QStringLiteral("river.pdf"));
    TestPdfWriter pdf(path);
    for (qsizetype p = 0; p < kPages.size(); ++p) {
        if (p > 0) pdf.newPage();
        pdf.text(92, 110, kPages[p][0]);
        pdf.text(92, 134, kPages[p][1]);
        pdf.text(290, 800, QString::number(p + 1));
    }
    if (!pdf.finish()) qFatal("cannot write %s", qPrintable(path));
    return path;
}

hip::LoadOptions modelOptions(int64_t context) {
    hip::LoadOptions options;
    options.model = hiptest::defaultModelPath();
    options.contextTokens = context;
    return options;
}

hip::TextRange find(const DocumentText& document, const QString& text) {
    const size_t at = document.text.find(text.toStdString());
    if (at == std::string::npos) return {};
    return {at, at + size_t(text.toUtf8().size())};
}

} // namespace

class TestDocumentIngest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void tokensMapBackToTheirPages();
    void answerAttendsToDocumentPages();
    void tooLongDocumentSaysHowMuchFits();
    void cancelledIngestLeavesNothing();
    void cliAnswersAboutADocument();
    void cliReportsDamagedDocument();

private:
    QTemporaryDir dir_;
    QString pdfPath_;
    DocumentText document_;
    std::unique_ptr<hip::Engine> engine_;
};

void TestDocumentIngest::initTestCase() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    pdfPath_ = writeRiverPdf(dir_);
    auto document = hip::doc::readDocument(pdfPath_);
    QVERIFY2(document, document.message().c_str());
    document_ = std::move(*document);
    // Exact text and layout are test_document_pdf's subject; here every sentence must be there.
    for (const QStringList& page : kPages)
        for (const QString& sentence : page)
            QVERIFY2(find(document_, sentence).end > 0, qPrintable(sentence));
    auto engine = hip::Engine::load(modelOptions(2048));
    QVERIFY2(engine, engine.message().c_str());
    engine_ = std::move(*engine);
}

void TestDocumentIngest::tokensMapBackToTheirPages() {
    auto session = engine_->newSession();
    QList<hip::doc::IngestEstimate> estimates;
    auto tokens = hip::doc::ingestDocument(
        *session, document_, [&](const hip::doc::IngestEstimate& e) { estimates << e; });
    QVERIFY2(tokens, tokens.message().c_str());
    QVERIFY(tokens->count() > 30);
    QVERIFY(tokens->firstPosition() > 0); // the chat template and the title come first
    QCOMPARE(tokens->contextTokens(), session->cachedTokens());
    QVERIFY(!estimates.isEmpty());
    QCOMPARE(estimates.back().done, estimates.back().total);
    QCOMPARE(estimates.back().total, tokens->contextTokens());

    for (qsizetype p = 0; p < kPages.size(); ++p) {
        for (const QString& sentence : kPages[p]) {
            const hip::TextRange range = find(document_, sentence);
            QVERIFY(range.end > range.begin);
            const hip::KeyRange positions = tokens->positionsOf(range);
            QVERIFY(positions.end > positions.begin);
            QVERIFY(positions.begin >= tokens->firstPosition() &&
                    positions.end <= tokens->endPosition());
            // Each token of the sentence lies on the sentence's page...
            for (int64_t t = positions.begin; t < positions.end; ++t)
                QCOMPARE(document_.pageOf(tokens->rangeAt(t)), int(p));
            // ...and the token range maps back to one passage there, with its boxes.
            const auto passages = hip::doc::passagesOf(document_, *tokens, positions);
            QCOMPARE(passages.size(), size_t(1));
            QCOMPARE(passages[0].page, int(p));
            QCOMPARE(passages[0].label, QString::number(p + 1));
            QCOMPARE(passages[0].quote, sentence);
            QCOMPARE(passages[0].boxes.size(), size_t(1)); // one line
            const hip::doc::NormalizedRect box = passages[0].boxes[0];
            QVERIFY(box.isOnPage());
            QVERIFY(std::abs(box.left - float(92.0 / 595)) < 0.01f);
        }
    }
}

void TestDocumentIngest::answerAttendsToDocumentPages() {
    auto session = engine_->newSession();
    auto tokens = hip::doc::ingestDocument(*session, document_);
    QVERIFY2(tokens, tokens.message().c_str());
    hip::GenerateOptions greedy;
    greedy.maxTokens = 12;
    auto answer = session->ask("Where do the herons nest?", greedy, {});
    QVERIFY2(answer, answer.message().c_str());

    const std::vector<float> weights = hip::doc::attentionWeights(session->trace());
    QVERIFY2(!weights.empty(), "the engine recorded no attention");
    const auto pages = hip::doc::attendedPages(document_, *tokens, weights);
    QCOMPARE(pages.size(), size_t(3)); // all pages of the document get some attention
    double total = 0;
    for (const hip::doc::PageAttention& page : pages) {
        QVERIFY(page.page >= 0 && page.page < 3);
        QVERIFY(page.weight > 0);
        total += page.weight;
        QVERIFY(!page.passages.empty());
        const QString quote = page.passages[0].quote;
        QVERIFY2(kPages[page.page].contains(quote), qPrintable(quote));
    }
    QVERIFY(std::abs(total - 1) < 1e-3);
    QVERIFY(pages[0].weight >= pages[1].weight && pages[1].weight >= pages[2].weight);
}

void TestDocumentIngest::tooLongDocumentSaysHowMuchFits() {
    auto engine = hip::Engine::load(modelOptions(256));
    QVERIFY2(engine, engine.message().c_str());
    DocumentText longer = document_;
    for (int i = 0; i < 6; ++i)
        longer.text += "\n\n" + document_.text;
    auto session = (*engine)->newSession();
    auto tokens = hip::doc::ingestDocument(*session, longer);
    QVERIFY(!tokens);
    const QString message = QString::fromStdString(tokens.message());
    QVERIFY2(message.startsWith(QStringLiteral("reading \"Test Document\" into the model: the "
                                               "document is ")),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("but the context holds 256")) &&
                 message.contains(QStringLiteral("% of it fits")),
             qPrintable(message));
    QCOMPARE(session->cachedTokens(), int64_t(0)); // nothing was cut and read

    DocumentText empty;
    empty.title = QStringLiteral("Blank");
    auto nothing = hip::doc::ingestDocument(*session, empty);
    QCOMPARE(QString::fromStdString(nothing.message()),
             QStringLiteral("\"Blank\" has no text for the model to read"));
}

void TestDocumentIngest::cancelledIngestLeavesNothing() {
    auto session = engine_->newSession();
    hip::CancelToken cancel;
    cancel.cancel();
    auto tokens = hip::doc::ingestDocument(*session, document_, {}, cancel);
    QVERIFY(!tokens);
    QCOMPARE(tokens.status().code(), hip::ErrorCode::Cancelled);
    QCOMPARE(session->cachedTokens(), int64_t(0));
}

void TestDocumentIngest::cliAnswersAboutADocument() {
    QProcess cli;
    cli.start(QStringLiteral(HIPREADER_CLI),
              {"ask", "--doc", pdfPath_, "--question", "Where do the herons nest?", "--model",
               QString::fromStdString(hiptest::defaultModelPath().string()), "--context", "2048",
               "--max-tokens", "16", "--pages", "2"});
    QVERIFY(cli.waitForFinished(120000));
    const QString out = QString::fromUtf8(cli.readAllStandardOutput());
    const QString err = QString::fromUtf8(cli.readAllStandardError());
    QVERIFY2(cli.exitStatus() == QProcess::NormalExit && cli.exitCode() == 0, qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("Test Document (PDF): 3 pages")), qPrintable(err));
    // The plan and its estimate before reading: the document fits, so the options stay.
    QVERIFY2(err.contains(QRegularExpression(QStringLiteral(
                 "the document is \\d+ tokens: reading it with dense attention in a "
                 "context of 2048 tokens; the model needs about .* on the (CPU|GPU)"))),
             qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("read \"Test Document\" into the model: ")),
             qPrintable(err));

    // The answer, then the pages it drew on most (at most two; pages that got no more attention
    // than an unrelated answer pays them are not sources), each with a quote from the page.
    const qsizetype header = out.indexOf(QStringLiteral("\nPages the answer attended to:\n"));
    QVERIFY2(header > 0, qPrintable(out));
    const QStringList lines = out.mid(header).split(QLatin1Char('\n'), Qt::SkipEmptyParts).mid(1);
    QVERIFY2(lines.size() >= 1 && lines.size() <= 2, qPrintable(out));
    for (const QString& line : lines) {
        const QRegularExpression format(QStringLiteral(R"re(^  page (\d)  \d+%  "(.+)"$)re"));
        const auto match = format.match(line);
        QVERIFY2(match.hasMatch(), qPrintable(line));
        const int page = match.captured(1).toInt() - 1;
        QVERIFY(page >= 0 && page < 3);
        QVERIFY2(kPages[page].contains(match.captured(2)), qPrintable(line));
    }
}

void TestDocumentIngest::cliReportsDamagedDocument() {
    const QString path = dir_.filePath(QStringLiteral("cut.pdf"));
    QFile source(pdfPath_), cut(path);
    QVERIFY(source.open(QIODevice::ReadOnly) && cut.open(QIODevice::WriteOnly));
    cut.write(source.read(source.size() / 2));
    cut.close();
    QProcess cli;
    cli.start(QStringLiteral(HIPREADER_CLI), {"ask", "--doc", path, "--question", "Anything?"});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 1);
    QVERIFY(QString::fromUtf8(cli.readAllStandardError())
                .startsWith(QStringLiteral("hipreader-cli: cut.pdf is damaged or not a PDF")));
}

QTEST_MAIN(TestDocumentIngest)
#include "test_document_ingest.moc"
