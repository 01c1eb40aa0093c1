// The cited-pages evaluation (app/source_eval) and the ranking it measures: books of filler with
// facts planted on known pages (deterministic, each fact once, on its page when read back from
// the PDF), the scores, and on a 4-page PDF read by the default model on the CPU: the document's
// background attention is measured at ingest, and ranking against it cites each fact's page
// first.

#include "test_support.h"

#include "document/document_ingest.h"
#include "document/document_reader.h"
#include "document/passage_finder.h"
#include "source_eval/fact_questions.h"
#include "source_eval/planted_book.h"
#include "source_eval/source_scores.h"

#include <hip/engine.h>

#include <QFile>
#include <QTemporaryDir>

#include <numeric>

using hip::sources::PlantedBook;
using hip::sources::PlantedFact;

namespace {

QString opticks() {
    QFile file(QString::fromStdString(hiptest::longTextPath().string()));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s (scripts/setup installs it)", qPrintable(file.fileName()));
    return QString::fromUtf8(file.readAll());
}

QString pageText(const PlantedBook& book, int page) {
    return book.pages[size_t(page)].paragraphs.join(u' ');
}

} // namespace

class TestSourceEval : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void factsArePlantedOnceOnTheirPages();
    void plantingIsDeterministic();
    void impossibleBooksAreRefused();
    void factsAreFoundOnTheirPagesOfThePdf();
    void overfullPagesAreReported();
    void answersAndRanksAreScored();
    void citedPagesPointAtThePlantedFacts();

private:
    QTemporaryDir dir_;
    QString filler_;
};

void TestSourceEval::initTestCase() {
    QVERIFY(dir_.isValid());
    filler_ = opticks();
}

void TestSourceEval::factsArePlantedOnceOnTheirPages() {
    auto book = hip::sources::plantBook(filler_, 20, 5, 7);
    QVERIFY2(book, book.message().c_str());
    QCOMPARE(book->pages.size(), size_t(20));
    QCOMPARE(book->facts.size(), size_t(5));
    // Spread evenly: the middle of each fifth of the book.
    const std::vector<int> expected = {2, 6, 10, 14, 18};
    QSet<QString> words, questions;
    for (size_t f = 0; f < book->facts.size(); ++f) {
        const PlantedFact& fact = book->facts[f];
        QCOMPARE(fact.page, expected[f]);
        words << fact.answer;
        questions << fact.question;
        QVERIFY(fact.statement.contains(fact.answer));
        QVERIFY(fact.question.endsWith(u'?'));
        for (int page = 0; page < 20; ++page)
            QCOMPARE(pageText(*book, page).count(fact.statement), page == fact.page ? 1 : 0);
    }
    QCOMPARE(words.size(), 5);
    QCOMPARE(questions.size(), 5);
    for (const auto& page : book->pages) {
        QVERIFY(!page.paragraphs.isEmpty());
        for (const QString& paragraph : page.paragraphs)
            QVERIFY2(!paragraph.contains(u'_'), "italics marks are dropped");
    }
}

void TestSourceEval::plantingIsDeterministic() {
    auto first = hip::sources::plantBook(filler_, 6, 3, 11);
    auto again = hip::sources::plantBook(filler_, 6, 3, 11);
    auto other = hip::sources::plantBook(filler_, 6, 3, 12);
    QVERIFY(first && again && other);
    QCOMPARE(pageText(*first, 0), pageText(*again, 0));
    QCOMPARE(first->facts[1].statement, again->facts[1].statement);
    QVERIFY(pageText(*first, 0) != pageText(*other, 0));
}

void TestSourceEval::impossibleBooksAreRefused() {
    QVERIFY(!hip::sources::plantBook(filler_, 3, 4, 1)); // more facts than pages
    QVERIFY(!hip::sources::plantBook(filler_, 100, hip::sources::maxPlantedFacts() + 1, 1));
    QVERIFY(!hip::sources::plantBook(filler_, 0, 1, 1));
    const auto tooShort = hip::sources::plantBook(QStringLiteral("Too short."), 2, 1, 1);
    QVERIFY(!tooShort);
    QVERIFY(QString::fromStdString(tooShort.message()).contains(QStringLiteral("too little")));
}

void TestSourceEval::factsAreFoundOnTheirPagesOfThePdf() {
    auto book = hip::sources::plantBook(filler_, 5, 3, 3);
    QVERIFY2(book, book.message().c_str());
    const QString path = dir_.filePath(QStringLiteral("five.pdf"));
    const hip::Status written = hip::doc::writeBookPdf(path, book->title, book->pages);
    QVERIFY2(written, written.message().c_str());
    auto document = hip::doc::readDocument(path);
    QVERIFY2(document, document.message().c_str());
    auto located = hip::sources::locateFacts(*document, *book);
    QVERIFY2(located, located.message().c_str());
    for (size_t f = 0; f < book->facts.size(); ++f)
        QCOMPARE((*located)[f], book->facts[f].page);

    // A code word the text does not hold is reported, not guessed.
    PlantedBook missing = *book;
    missing.facts[0].answer = QStringLiteral("ZEBRAFISH");
    const auto notFound = hip::sources::locateFacts(*document, missing);
    QVERIFY(!notFound);
    QVERIFY(QString::fromStdString(notFound.message()).contains(QStringLiteral("ZEBRAFISH")));
}

void TestSourceEval::overfullPagesAreReported() {
    auto book = hip::sources::plantBook(filler_, 2, 1, 3, 1200);
    QVERIFY2(book, book.message().c_str());
    const QString path = dir_.filePath(QStringLiteral("overfull.pdf"));
    QVERIFY(hip::doc::writeBookPdf(path, book->title, book->pages));
    auto document = hip::doc::readDocument(path);
    QVERIFY2(document, document.message().c_str());
    const auto located = hip::sources::locateFacts(*document, *book);
    QVERIFY(!located);
    QVERIFY(QString::fromStdString(located.message()).contains(QStringLiteral("too many words")));
}

void TestSourceEval::answersAndRanksAreScored() {
    using hip::sources::namesCodeWord;
    const QString word = QStringLiteral("PELICAN");
    QVERIFY(namesCodeWord("The code word for the blue door is PELICAN.", word));
    QVERIFY(namesCodeWord("\"Pelican\"", word));
    QVERIFY(!namesCodeWord("PELICANS fly", word));
    QVERIFY(!namesCodeWord("The code word is ORCHID.", word));
    QVERIFY(!namesCodeWord("", word));

    std::vector<hip::doc::PageAttention> cited(3);
    cited[0].page = 7;
    cited[1].page = 2;
    cited[2].page = 9;
    QCOMPARE(hip::sources::citedRank(7, cited), 1);
    QCOMPARE(hip::sources::citedRank(9, cited), 3);
    QCOMPARE(hip::sources::citedRank(4, cited), 0);

    hip::sources::SourceScores scores;
    QCOMPARE(scores.shareAt1(), 0.0);
    scores.add({true, 1});
    scores.add({false, 1});
    scores.add({true, 3});
    scores.add({false, 0});
    QCOMPARE(scores.facts, 4);
    QCOMPARE(scores.correct, 2);
    QCOMPARE(scores.pageAt1, 2);
    QCOMPARE(scores.pageAt3, 3);
    QCOMPARE(scores.accuracy(), 0.5);
    QCOMPARE(scores.shareAt3(), 0.75);
}

void TestSourceEval::citedPagesPointAtThePlantedFacts() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    auto book = hip::sources::plantBook(filler_, 4, 2, 2);
    QVERIFY2(book, book.message().c_str());
    const QString path = dir_.filePath(QStringLiteral("four.pdf"));
    QVERIFY(hip::doc::writeBookPdf(path, book->title, book->pages));
    auto document = hip::doc::readDocument(path);
    QVERIFY2(document, document.message().c_str());
    auto located = hip::sources::locateFacts(*document, *book);
    QVERIFY2(located, located.message().c_str());

    hip::LoadOptions options;
    options.model = hiptest::defaultModelPath();
    options.device = hip::Device::Cpu;
    options.contextTokens = 2048;
    auto engine = hip::Engine::load(options);
    QVERIFY2(engine, engine.message().c_str());
    auto session = (*engine)->newSession();
    auto tokens = hip::doc::ingestDocument(*session, *document);
    QVERIFY2(tokens, tokens.message().c_str());

    // The backgrounds are measured at ingest, the answer's and the question's: a share per
    // document token, summing to 1, and the unrelated exchange is forgotten.
    for (const std::vector<float>* background :
         {&tokens->background().answer, &tokens->background().question}) {
        QCOMPARE(int64_t(background->size()), tokens->count());
        QVERIFY(std::abs(std::accumulate(background->begin(), background->end(), 0.0) - 1.0) <
                1e-3);
    }
    QVERIFY(session->history().empty());
    QCOMPARE(session->cachedTokens(), tokens->contextTokens());

    hip::GenerateOptions greedy;
    greedy.maxTokens = 24;
    hip::sources::SourceScores scores;
    for (size_t f = 0; f < book->facts.size(); ++f) {
        auto answer = hip::sources::askPlantedFact(*session, *document, *tokens, book->facts[f],
                                                   (*located)[f], greedy);
        QVERIFY2(answer, answer.message().c_str());
        qInfo("%s -> %s; cited first %d (by the answer %d, by mass alone %d), planted on %d",
              qPrintable(book->facts[f].question), answer->text.c_str(),
              answer->cited.empty() ? -1 : answer->cited[0].page,
              answer->citedByAnswer.empty() ? -1 : answer->citedByAnswer[0].page,
              answer->citedByMass.empty() ? -1 : answer->citedByMass[0].page, (*located)[f]);
        scores.add(answer->score);
        // A fresh conversation each time: the question and its answer only.
        QCOMPARE(session->history().size(), size_t(2));
        // Source weights lie on the document only.
        const std::vector<float> weights = hip::doc::sourceWeights(session->trace(), *tokens);
        for (int64_t p = 0; p < tokens->firstPosition(); ++p)
            QCOMPARE(weights[size_t(p)], 0.0f);
    }
    QCOMPARE(scores.pageAt1, scores.facts);
}

QTEST_MAIN(TestSourceEval)
#include "test_source_eval.moc"
