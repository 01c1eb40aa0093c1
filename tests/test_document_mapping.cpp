// From the engine's tokens back to the document: KV positions to bytes and back, token ranges
// to passages per page, attention weights to the pages and sentences they fall on; and the
// ingest progress estimate. On a document built in the test, so every answer is known.

#include "test_support.h"

#include "document/document_builder.h"
#include "document/ingest_progress.h"
#include "document/passage_finder.h"

#include <cmath>
#include <limits>

using hip::doc::DocumentText;
using hip::doc::NormalizedRect;

namespace {

constexpr int64_t kHeaderTokens = 7; // KV positions before the document (template, title)

// Characters 1% of the page wide, one line of text per call.
void appendLine(hip::doc::DocumentBuilder& builder, const QString& line, float top) {
    float x = 0.1f;
    for (QChar c : line) {
        if (c == QLatin1Char(' '))
            builder.appendText(u" ");
        else
            builder.appendGlyph(c.unicode(), {x, top, x + 0.01f, top + 0.015f});
        x += 0.01f;
    }
}

// Three pages of two sentences; the second page's sentences are on two lines each.
DocumentText makeDocument() {
    hip::doc::DocumentBuilder builder;
    builder.beginPage({QStringLiteral("i"), {}, 595, 842, 0, {}});
    appendLine(builder, QStringLiteral("The otter swims upstream."), 0.1f);
    builder.appendText(u" ");
    appendLine(builder, QStringLiteral("It eats small fish."), 0.12f);
    builder.appendText(u"\n\n");
    builder.beginPage({QStringLiteral("1"), {}, 595, 842, 0, {}});
    appendLine(builder, QStringLiteral("Herons wait in"), 0.1f);
    builder.appendText(u" ");
    appendLine(builder, QStringLiteral("the shallows."), 0.12f);
    builder.appendText(u" ");
    appendLine(builder, QStringLiteral("They strike"), 0.14f);
    builder.appendText(u" ");
    appendLine(builder, QStringLiteral("fast."), 0.16f);
    builder.appendText(u"\n\n");
    builder.beginPage({QStringLiteral("2"), {}, 595, 842, 0, {}});
    appendLine(builder, QStringLiteral("Eels leave for the sea in autumn."), 0.1f);
    builder.appendText(u" ");
    appendLine(builder, QStringLiteral("Nobody has seen them spawn."), 0.12f);
    DocumentText document = builder.take();
    document.title = QStringLiteral("River Animals");
    return document;
}

// Tokens as a byte-level BPE makes them: each word with the whitespace before it.
hip::doc::DocumentTokens tokenize(const DocumentText& document) {
    hip::IngestResult ingest;
    ingest.firstDocumentToken = kHeaderTokens;
    ingest.contextTokens = kHeaderTokens;
    const std::string& text = document.text;
    for (uint64_t begin = 0; begin < text.size();) {
        uint64_t end = begin;
        while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])))
            ++end;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
            ++end;
        ingest.documentTokens.push_back({begin, end});
        ++ingest.contextTokens;
        begin = end;
    }
    return hip::doc::DocumentTokens(std::move(ingest));
}

hip::TextRange find(const DocumentText& document, const char* text) {
    const size_t at = document.text.find(text);
    return {at, at + std::strlen(text)};
}

// The KV position of the token holding `word`.
int64_t positionOf(const DocumentText& document, const hip::doc::DocumentTokens& tokens,
                   const char* word) {
    return tokens.positionsOf(find(document, word)).begin;
}

} // namespace

class TestDocumentMapping : public QObject {
    Q_OBJECT
private slots:
    void tokensAndBytesRoundTrip();
    void tokenRangeMapsToPassagesPerPage();
    void weightsRankPagesAndSentences();
    void weightsOutsideTheDocumentAreIgnored();
    void boxesMergeAlongLines();
    void quotesAreShortenedAtWords();
    void traceWeightsPreferMass();
    void sourceWeightsLeaveOutTheBackground();
    void sourceWeightsFollowTheQuestion();
    void ingestProgressEstimatesTimeLeft();
};

void TestDocumentMapping::tokensAndBytesRoundTrip() {
    const DocumentText document = makeDocument();
    const hip::doc::DocumentTokens tokens = tokenize(document);
    QCOMPARE(tokens.firstPosition(), kHeaderTokens);
    QCOMPARE(tokens.endPosition(), kHeaderTokens + tokens.count());

    for (const char* sentence : {"It eats small fish.", "They strike fast.", "Nobody has seen"}) {
        const hip::TextRange range = find(document, sentence);
        const hip::KeyRange positions = tokens.positionsOf(range);
        QVERIFY(positions.begin >= kHeaderTokens && positions.end > positions.begin);
        const hip::TextRange back = tokens.textOf(positions);
        // The tokens cover the sentence and at most the whitespace before it.
        QVERIFY(back.begin <= range.begin && back.end >= range.end);
        QCOMPARE(document.textOf(back).trimmed(), QString::fromUtf8(sentence));
        QCOMPARE(document.pageAt(back.end - 1), document.pageAt(range.begin));
    }
    // "\n\nHerons" starts with the end of page i but is a word of page 1.
    const hip::TextRange herons = tokens.rangeAt(positionOf(document, tokens, "Herons"));
    QCOMPARE(document.pageAt(herons.begin), 0);
    QCOMPARE(document.pageOf(herons), 1);
    // Positions outside the document stand for no text, and text outside it for no tokens.
    const hip::TextRange none = tokens.textOf({0, kHeaderTokens});
    QCOMPARE(none.end, none.begin);
    QCOMPARE(tokens.rangeAt(kHeaderTokens - 1).end, uint64_t(0));
    const hip::KeyRange nothing =
        tokens.positionsOf({document.text.size(), document.text.size() + 5});
    QCOMPARE(nothing.end, nothing.begin);
}

void TestDocumentMapping::tokenRangeMapsToPassagesPerPage() {
    const DocumentText document = makeDocument();
    const hip::doc::DocumentTokens tokens = tokenize(document);
    // From "small" on the first page to "wait" on the second.
    const hip::KeyRange positions = {positionOf(document, tokens, "small"),
                                     positionOf(document, tokens, "wait") + 1};
    const std::vector<hip::doc::Passage> passages =
        hip::doc::passagesOf(document, tokens, positions);
    QCOMPARE(passages.size(), size_t(2));
    QCOMPARE(passages[0].page, 0);
    QCOMPARE(passages[0].label, QStringLiteral("i"));
    QCOMPARE(passages[0].quote, QStringLiteral("small fish."));
    QCOMPARE(passages[0].boxes.size(), size_t(1));
    QCOMPARE(passages[1].page, 1);
    QCOMPARE(passages[1].quote, QStringLiteral("Herons wait"));
    QVERIFY(std::abs(passages[0].weight + passages[1].weight - 1) < 0.05);
    for (const auto& passage : passages)
        for (const NormalizedRect& box : passage.boxes)
            QVERIFY(box.isOnPage() && !box.isNull());
}

void TestDocumentMapping::weightsRankPagesAndSentences() {
    const DocumentText document = makeDocument();
    const hip::doc::DocumentTokens tokens = tokenize(document);
    std::vector<float> weights(size_t(tokens.endPosition() + 20), 0.0f);
    auto put = [&](const char* word, float w) {
        weights[size_t(positionOf(document, tokens, word))] = w;
    };
    put("Herons", 4);
    put("shallows.", 2); // the same sentence as "Herons": one passage
    put("strike", 3);
    put("autumn.", 1);
    const std::vector<hip::doc::PageAttention> pages =
        hip::doc::attendedPages(document, tokens, weights);
    QCOMPARE(pages.size(), size_t(2));
    QCOMPARE(pages[0].page, 1);
    QCOMPARE(pages[0].label, QStringLiteral("1"));
    QVERIFY(std::abs(pages[0].weight - 0.9) < 1e-6);
    QCOMPARE(pages[1].page, 2);
    QVERIFY(std::abs(pages[1].weight - 0.1) < 1e-6);

    const auto& passages = pages[0].passages;
    QCOMPARE(passages.size(), size_t(2));
    QCOMPARE(passages[0].quote, QStringLiteral("Herons wait in the shallows."));
    QVERIFY(std::abs(passages[0].weight - 0.6) < 1e-6);
    QCOMPARE(passages[0].boxes.size(), size_t(2)); // two lines
    QCOMPARE(passages[1].quote, QStringLiteral("They strike fast."));
    QVERIFY(std::abs(passages[1].weight - 0.3) < 1e-6);
    QCOMPARE(pages[1].passages.size(), size_t(1));
    QCOMPARE(pages[1].passages[0].quote, QStringLiteral("Eels leave for the sea in autumn."));

    hip::doc::PassageOptions one;
    one.maxPages = 1;
    one.maxPassagesPerPage = 1;
    const auto top = hip::doc::attendedPages(document, tokens, weights, one);
    QCOMPARE(top.size(), size_t(1));
    QCOMPARE(top[0].passages.size(), size_t(1));
    QCOMPARE(top[0].passages[0].quote, QStringLiteral("Herons wait in the shallows."));
}

void TestDocumentMapping::weightsOutsideTheDocumentAreIgnored() {
    const DocumentText document = makeDocument();
    const hip::doc::DocumentTokens tokens = tokenize(document);
    QVERIFY(hip::doc::attendedPages(document, tokens, {}).empty());

    std::vector<float> weights(size_t(tokens.endPosition() + 10), 0.0f);
    weights[0] = 100;                               // the attention sink, in the header
    weights[size_t(tokens.endPosition() + 3)] = 50; // the question
    weights[size_t(positionOf(document, tokens, "otter"))] =
        std::numeric_limits<float>::quiet_NaN();
    weights[size_t(positionOf(document, tokens, "Eels"))] = -1;
    QVERIFY(hip::doc::attendedPages(document, tokens, weights).empty());

    weights[size_t(positionOf(document, tokens, "spawn."))] = 0.5f;
    const auto pages = hip::doc::attendedPages(document, tokens, weights);
    QCOMPARE(pages.size(), size_t(1));
    QCOMPARE(pages[0].page, 2);
    QCOMPARE(pages[0].weight, 1.0);
    QCOMPARE(pages[0].passages[0].quote, QStringLiteral("Nobody has seen them spawn."));
}

void TestDocumentMapping::boxesMergeAlongLines() {
    const DocumentText document = makeDocument();
    const auto areas = document.areasOf(find(document, "Herons wait in the shallows. They"));
    QCOMPARE(areas.size(), size_t(1));
    QCOMPARE(areas[0].page, 1);
    QCOMPARE(areas[0].boxes.size(), size_t(3)); // three lines
    const NormalizedRect first = areas[0].boxes[0];
    QVERIFY(std::abs(first.left - 0.1f) < 1e-6f && std::abs(first.right - 0.24f) < 1e-6f);
    QVERIFY(std::abs(first.top - 0.1f) < 1e-6f && std::abs(first.bottom - 0.115f) < 1e-6f);
    // Across pages: one area per page.
    const auto spread = document.areasOf(find(document, "fish.\n\nHerons"));
    QCOMPARE(spread.size(), size_t(2));
    QCOMPARE(spread[0].page, 0);
    QCOMPARE(spread[1].page, 1);
}

void TestDocumentMapping::quotesAreShortenedAtWords() {
    const DocumentText document = makeDocument();
    const hip::TextRange all{0, document.text.size()};
    QCOMPARE(document.quote(all, 30), QStringLiteral("The otter swims upstream. It\u2026"));
    QCOMPARE(document.quote(find(document, "fish.\n\nHerons"), 40), QStringLiteral("fish. Herons"));
    // A range that splits a UTF-8 character is widened to the whole character.
    hip::doc::DocumentBuilder builder;
    builder.beginPage({});
    builder.appendText(u"caf\u00e9 noir");
    const DocumentText accented = builder.take();
    QCOMPARE(accented.textOf({0, 4}), QStringLiteral("caf\u00e9"));
}

void TestDocumentMapping::traceWeightsPreferMass() {
    hip::AttentionTrace trace;
    trace.hitCounts = {0, 3, 1};
    QCOMPARE(hip::doc::attentionWeights(trace), std::vector<float>({0, 3, 1}));
    trace.mass = {0.5f, 0.25f, 0.25f};
    QCOMPARE(hip::doc::attentionWeights(trace), trace.mass);
}

// The test document with the positions of three of its words: one a question or answer looks
// for (page 1), a word every exchange looks at, and the last word (page 2, recent to every
// exchange).
struct WeighedDocument {
    DocumentText document = makeDocument();
    hip::doc::DocumentTokens tokens = tokenize(document);
    size_t first = size_t(tokens.firstPosition());
    size_t herons = size_t(positionOf(document, tokens, "Herons"));
    size_t the = size_t(positionOf(document, tokens, "the"));
    size_t spawn = size_t(positionOf(document, tokens, "spawn."));
};

void TestDocumentMapping::sourceWeightsLeaveOutTheBackground() {
    WeighedDocument d;
    const auto& [document, _, first, herons, the, spawn] = d;
    hip::doc::DocumentTokens& tokens = d.tokens;
    hip::AttentionTrace trace;
    trace.mass.assign(size_t(tokens.endPosition() + 5), 0.0f);
    trace.mass[0] = 10;     // the sink, outside the document
    trace.mass[herons] = 4; // what this answer looked for
    trace.mass[the] = 2;    // what every answer looks at
    trace.mass[spawn] = 10; // the last words, recent to every question

    // Shares of the document's attention only.
    const std::vector<float> shares = hip::doc::documentShares(trace.mass, tokens);
    QCOMPARE(int64_t(shares.size()), tokens.count());
    QCOMPARE(shares[herons - first], 0.25f);
    QCOMPARE(shares[the - first], 0.125f);
    QCOMPARE(shares[spawn - first], 0.625f);
    QCOMPARE(hip::doc::documentShares(std::vector<float>(3, 0.0f), tokens),
             std::vector<float>(size_t(tokens.count()), 0.0f));

    // Without a background the weights are the attention as it is: the recent page leads.
    QCOMPARE(hip::doc::sourceWeights(trace, tokens), trace.mass);

    // The answer against its background: what every answer looks at drops out.
    std::vector<float> background(size_t(tokens.count()), 0.0f);
    background[the - first] = 0.5f;
    background[spawn - first] = 0.3f;
    background[herons - first] = 0.05f;
    tokens.setBackground({background, {}});
    const std::vector<float> weights = hip::doc::sourceWeights(trace, tokens);
    QCOMPARE(hip::doc::answerSourceWeights(trace, tokens), weights);
    QCOMPARE(int64_t(weights.size()), tokens.endPosition());
    QCOMPARE(weights[0], 0.0f);
    QCOMPARE(weights[the], 0.0f);
    QCOMPARE(weights[spawn], 0.0f);
    QVERIFY(std::abs(weights[herons] - (0.25f - hip::doc::kAnswerBackgroundFactor * 0.05f)) <
            1e-6f);
    const auto cited = hip::doc::citedPages(trace, document, tokens, 3);
    QCOMPARE(cited.size(), size_t(1));
    QCOMPARE(cited[0].page, 1);
    QCOMPARE(cited[0].passages[0].quote, QStringLiteral("Herons wait in the shallows."));
    // The same trace ranked by its mass alone puts the last page first.
    QCOMPARE(hip::doc::citedPages(trace.mass, document, tokens, 3)[0].page, 2);
}

// With the question's attention traced and its background measured, the question ranks the
// sources: here it looked up "spawn." (the answer looked elsewhere), beyond its background share.
void TestDocumentMapping::sourceWeightsFollowTheQuestion() {
    WeighedDocument d;
    const auto& [document, _, first, herons, the, spawn] = d;
    hip::doc::DocumentTokens& tokens = d.tokens;
    hip::AttentionTrace trace;
    trace.mass.assign(size_t(tokens.endPosition()), 0.0f);
    trace.mass[herons] = 1;
    trace.questionMass.assign(size_t(tokens.endPosition()), 0.0f);
    trace.questionMass[0] = 20;    // the sink, outside the document
    trace.questionMass[the] = 2;   // what every question looks at
    trace.questionMass[spawn] = 2; // what this question looked for
    std::vector<float> answerBackground(size_t(tokens.count()), 0.0f);
    answerBackground[the - first] = 1.0f;
    std::vector<float> questionBackground(size_t(tokens.count()), 0.0f);
    questionBackground[the - first] = 0.4f;
    questionBackground[spawn - first] = 0.01f;

    // A question background of the wrong length (not measured for this document) leaves the
    // answer's ranking.
    tokens.setBackground({answerBackground, {0.5f}});
    QCOMPARE(hip::doc::sourceWeights(trace, tokens), hip::doc::answerSourceWeights(trace, tokens));

    tokens.setBackground({answerBackground, questionBackground});
    // A question that looked nowhere beyond its background (here only at "the") leaves the
    // answer's ranking too.
    hip::AttentionTrace unfocused = trace;
    unfocused.questionMass[spawn] = 0;
    QCOMPARE(hip::doc::sourceWeights(unfocused, tokens),
             hip::doc::answerSourceWeights(unfocused, tokens));

    const std::vector<float> weights = hip::doc::sourceWeights(trace, tokens);
    QCOMPARE(int64_t(weights.size()), tokens.endPosition());
    QCOMPARE(weights[0], 0.0f);
    QCOMPARE(weights[the], 0.0f);
    QCOMPARE(weights[herons], 0.0f);
    QVERIFY(std::abs(weights[spawn] - (0.5f - hip::doc::kQuestionBackgroundFactor * 0.01f)) <
            1e-6f);
    QCOMPARE(hip::doc::citedPages(trace, document, tokens, 3)[0].page, 2);
    QCOMPARE(
        hip::doc::citedPages(hip::doc::answerSourceWeights(trace, tokens), document, tokens, 3)[0]
            .page,
        1);
}

void TestDocumentMapping::ingestProgressEstimatesTimeLeft() {
    hip::doc::IngestProgress progress;
    hip::doc::IngestEstimate e = progress.update({"reading", 0, 1000}, 0.0);
    QCOMPARE(e.secondsLeft, -1.0);
    QCOMPARE(e.describe(), std::string("0 / 1,000 tokens (0%)"));

    e = progress.update({"reading", 250, 1000}, 1.0);
    QCOMPARE(e.tokensPerSecond, 250.0);
    QCOMPARE(e.secondsLeft, 3.0);
    QCOMPARE(e.describe(), std::string("250 / 1,000 tokens (25%), 250 tokens/s, about 3 s left"));

    // Slower chunks (a longer context) weigh most in the time left.
    e = progress.update({"reading", 500, 1000}, 3.0);
    QVERIFY(std::abs(e.tokensPerSecond - 500.0 / 3) < 1e-9);
    const double recent = 0.67 * 250 + 0.33 * 125;
    QVERIFY(std::abs(e.secondsLeft - 500 / recent) < 1e-9);
    QVERIFY(e.secondsLeft > 500 / 250.0);

    e = progress.update({"reading", 1000, 1000}, 5.0);
    QCOMPARE(e.fraction(), 1.0);
    QCOMPARE(e.describe(), std::string("1,000 / 1,000 tokens (100%), 200 tokens/s, done in 5 s"));

    hip::doc::IngestEstimate big;
    big.done = 1234567;
    big.total = 2000000;
    big.secondsLeft = 3725;
    QCOMPARE(big.describe(),
             std::string("1,234,567 / 2,000,000 tokens (61%), about 1 h 2 min left"));
}

QTEST_GUILESS_MAIN(TestDocumentMapping)
#include "test_document_mapping.moc"
