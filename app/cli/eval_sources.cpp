// hipreader-cli eval sources: do the cited pages point at the answer? Books of filler prose with
// facts planted on known pages are written as PDFs, read back like any book, and each fact's
// question is asked in a fresh conversation after the book (whose KV cache is reused). A summary
// table per book and a table of every question go to stdout; --csv writes the questions.

#include "eval_sources.h"

#include "cli_common.h"
#include "document_cli.h"
#include "eval_common.h"
#include "gui_application.h"

#include <source_eval/fact_questions.h>
#include <source_eval/planted_book.h>

#include <QDir>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

namespace cli {
namespace {

// The answer is a code word; a few more tokens let the model say it in a sentence.
constexpr int kAnswerTokens = 24;

std::string percent(int count, int total) {
    return total > 0 ? fixed(100.0 * count / total, 0) + "%" : "n/a";
}

// Pipes would break the markdown table; line breaks the CSV rows.
std::string cell(std::string text) {
    std::replace(text.begin(), text.end(), '|', '/');
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

std::string pageList(const hip::doc::DocumentText& document,
                     const std::vector<hip::doc::PageAttention>& pages) {
    std::string list;
    for (const hip::doc::PageAttention& page : pages)
        list += (list.empty() ? "" : " ") + document.pageName(page.page).toStdString();
    return list.empty() ? "none" : list;
}

std::string rankCell(const hip::sources::FactScore& score) {
    return score.rank > 0 ? std::to_string(score.rank) : "-";
}

struct BookRun {
    std::vector<std::string> summary;
    std::vector<std::vector<std::string>> questions;
};

// Writes, reads, plans, loads, ingests and asks one book of `pageCount` pages; on failure
// prints why and returns nullopt.
std::optional<BookRun> runBook(Arguments& args, const QString& filler, int pageCount, int factCount,
                               uint64_t seed, const QString& folder,
                               const hip::GenerateOptions& generate) {
    auto book = hip::sources::plantBook(filler, pageCount, factCount, seed);
    if (!book) {
        fail(book.message());
        return std::nullopt;
    }
    const QString path = QDir(folder).filePath(QStringLiteral("planted-%1.pdf").arg(pageCount));
    {
        const auto application = guiApplication();
        if (auto written = hip::doc::writeBookPdf(path, book->title, book->pages); !written) {
            fail(written.message());
            return std::nullopt;
        }
    }
    auto document = readDocumentFile(path.toStdString(), std::nullopt, true);
    if (!document) return std::nullopt;
    auto located = hip::sources::locateFacts(*document, *book);
    if (!located) {
        fail(located.message());
        return std::nullopt;
    }
    auto load = loadOptions(args);
    if (!load) return std::nullopt;
    load = planForDocument(args, *load, document->text);
    if (!load) return std::nullopt;
    auto engine = loadEngine(*load);
    if (!engine) return std::nullopt;
    auto session = engine->newSession();
    auto tokens = ingestDocumentFile(*session, *document);
    if (!tokens) return std::nullopt;

    BookRun run;
    hip::sources::SourceScores scores, scoresByAnswer, scoresByMass;
    double askSeconds = 0;
    resetInterrupt();
    for (size_t f = 0; f < book->facts.size(); ++f) {
        const hip::sources::PlantedFact& fact = book->facts[f];
        const int page = (*located)[f];
        auto answer = hip::sources::askPlantedFact(*session, *document, *tokens, fact, page,
                                                   generate, interruptToken());
        if (!answer) {
            fail(answer.message());
            return std::nullopt;
        }
        scores.add(answer->score);
        scoresByAnswer.add(answer->scoreByAnswer);
        scoresByMass.add(answer->scoreByMass);
        askSeconds += answer->stats.prefillSeconds + answer->stats.decodeSeconds;
        const std::string pageName = document->pageName(page).toStdString();
        const std::string cited = pageList(*document, answer->cited);
        const std::string citedByAnswer = pageList(*document, answer->citedByAnswer);
        const std::string citedByMass = pageList(*document, answer->citedByMass);
        std::fprintf(stderr,
                     "%d pages, %s: %s -> %s (%s); cited %s (by the answer's attention %s, by "
                     "mass alone %s)\n",
                     pageCount, pageName.c_str(), fact.question.toStdString().c_str(),
                     cell(answer->text).c_str(), answer->score.correct ? "correct" : "wrong",
                     cited.c_str(), citedByAnswer.c_str(), citedByMass.c_str());
        run.questions.push_back(
            {std::to_string(pageCount), pageName, fact.question.toStdString(),
             fact.answer.toStdString(), cell(answer->text), answer->score.correct ? "yes" : "no",
             cited, rankCell(answer->score), citedByAnswer, rankCell(answer->scoreByAnswer),
             citedByMass, rankCell(answer->scoreByMass)});
    }
    run.summary = {std::to_string(pageCount),
                   std::to_string(tokens->contextTokens()),
                   engine->attention().name,
                   std::to_string(engine->contextTokens()),
                   deviceLabel(engine->device()),
                   std::to_string(scores.facts),
                   percent(scores.correct, scores.facts),
                   percent(scores.pageAt1, scores.facts),
                   percent(scores.pageAt3, scores.facts),
                   percent(scoresByAnswer.pageAt1, scores.facts),
                   percent(scoresByAnswer.pageAt3, scores.facts),
                   percent(scoresByMass.pageAt1, scores.facts),
                   percent(scoresByMass.pageAt3, scores.facts),
                   fixed(tokens->seconds(), 0),
                   fixed(askSeconds / std::max(1, scores.facts), 1)};
    return run;
}

} // namespace

int evalSources(Arguments& args) {
    if (!args.validate(unite(
            {kModelOptions, {"pages", "facts", "seed", "text", "pdf-dir", "max-tokens", "csv"}})))
        return fail(args.error());
    std::vector<int64_t> pageCounts = {10, 100, 1000};
    if (auto pages = args.value("pages")) {
        auto parsed = parseLengths(*pages);
        if (!parsed) return fail("--pages expects page counts like 10,100, got '" + *pages + "'");
        pageCounts = *parsed;
    }
    const auto facts = int(args.integer("facts", 10));
    const auto seed = uint64_t(args.integer("seed", 1));
    hip::GenerateOptions generate; // greedy
    generate.maxTokens = int32_t(args.integer("max-tokens", kAnswerTokens));
    if (!args.error().empty()) return fail(args.error());
    if (facts < 1 || facts > hip::sources::maxPlantedFacts())
        return fail("--facts expects 1 to " + std::to_string(hip::sources::maxPlantedFacts()));
    auto filler = readText(args);
    if (!filler) return 1;

    // The PDFs are kept where --pdf-dir says, else written to a folder removed at the end.
    QTemporaryDir temporary;
    QString folder = temporary.path();
    if (auto dir = args.value("pdf-dir")) {
        folder = QString::fromStdString(*dir);
        if (!QDir().mkpath(folder)) return fail("cannot create " + *dir);
    } else if (!temporary.isValid()) {
        return fail("cannot create a temporary folder for the PDFs");
    }

    const auto start = Clock::now();
    Table summary{{"pages", "tokens", "attention", "context", "device", "facts", "answers correct",
                   "page@1", "page@3", "page@1, answer", "page@3, answer", "page@1, mass alone",
                   "page@3, mass alone", "reading s", "s per question"},
                  {}};
    Table questions{{"pages", "fact's page", "question", "code word", "answer", "correct", "cited",
                     "rank", "cited by the answer", "rank by the answer", "cited by mass alone",
                     "rank by mass alone"},
                    {}};
    for (int64_t pageCount : pageCounts) {
        const int factCount = int(std::min<int64_t>(facts, pageCount));
        auto run = runBook(args, QString::fromStdString(*filler), int(pageCount), factCount, seed,
                           folder, generate);
        if (!run) return 1;
        summary.rows.push_back(run->summary);
        questions.rows.insert(questions.rows.end(), run->questions.begin(), run->questions.end());
    }
    std::printf("Cited pages: facts planted in books of filler prose (%s), each asked in a fresh "
                "conversation after the book; greedy answers of at most %d tokens, %d pages "
                "cited. page@1 and page@3 rank pages as the app does (the attention of the "
                "question's tokens beyond what an unrelated question's get); \"answer\" ranks "
                "them by the answer's attention beyond an unrelated answer's, \"mass alone\" by "
                "the answer's attention mass as it is.\n\n",
                args.value("text", "Newton's Opticks").c_str(), generate.maxTokens,
                hip::sources::kCitedPages);
    printMarkdown(summary);
    std::printf("\n");
    return finish(args, questions, start);
}

} // namespace cli
