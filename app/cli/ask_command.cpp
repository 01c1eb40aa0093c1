#include "cli_common.h"
#include "commands.h"

#ifdef HIPREADER_HAS_DOCUMENTS
#include "document_cli.h"
#endif

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace cli {

int runAsk(Arguments& args) {
    if (!args.validate(unite({kModelOptions,
                              kSamplingOptions,
                              {"text", "doc", "password", "pages", "question", "stats"}})))
        return fail(args.error());
    auto question = args.value("question");
    if (!question && !args.positional().empty()) question = args.positional().back();
    if (!question) return fail("ask needs a question: --question TEXT");
    if (args.has("text") && args.has("doc")) return fail("give --text or --doc, not both");
#ifndef HIPREADER_HAS_DOCUMENTS
    if (args.has("doc"))
        return fail("this hipreader-cli was built without document support (Qt Gui, Poppler and "
                    "libzip); use --text with a text file");
#endif
#ifdef HIPREADER_HAS_DOCUMENTS
    const int pages = int(args.integer("pages", 5));
#endif
    const auto choice = generationChoice(args);
    if (!choice) return 1;

#ifdef HIPREADER_HAS_DOCUMENTS
    // The document is read before the model loads, so a damaged file fails fast.
    std::optional<hip::doc::DocumentText> book;
    if (auto path = args.value("doc")) {
        book = readDocumentFile(*path, args.value("password"));
        if (!book) return 1;
    }
#endif
    std::optional<hip::DocumentInput> text;
    if (auto path = args.value("text")) {
        std::ifstream in(*path, std::ios::binary);
        if (!in) return fail("cannot read " + *path);
        std::ostringstream content;
        content << in.rdbuf();
        text = hip::DocumentInput{std::filesystem::path(*path).filename().string(), content.str()};
    }

    std::optional<hip::LoadOptions> load = choice->load;
    if (text) load = planForDocument(args, *load, text->text);
#ifdef HIPREADER_HAS_DOCUMENTS
    if (book) load = planForDocument(args, *load, book->text);
#endif
    if (!load) return 1;
    auto engine = loadEngine(*load);
    if (!engine) return 1;
    auto session = engine->newSession();
    if (text) {
        resetInterrupt();
        auto ingested = session->ingest(*text, {}, interruptToken());
        if (!ingested) return fail(ingested.message());
    }
#ifdef HIPREADER_HAS_DOCUMENTS
    std::optional<hip::doc::DocumentTokens> tokens;
    if (book) {
        tokens = ingestDocumentFile(*session, *book);
        if (!tokens) return 1;
    }
#endif
    auto answer = streamToStdout([&](const hip::TokenSink& sink, const hip::CancelToken& cancel) {
        return session->ask(*question, choice->generate, sink, cancel);
    });
    if (!answer) return fail(answer.message());
#ifdef HIPREADER_HAS_DOCUMENTS
    if (book && answer->stopReason != hip::StopReason::Cancelled)
        printAttendedPages(*session, *book, *tokens, pages);
#endif
    if (args.has("stats")) printStats(*answer);
    return answer->stopReason == hip::StopReason::Cancelled ? 130 : 0;
}

} // namespace cli
