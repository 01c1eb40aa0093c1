#include "cli_common.h"
#include "commands.h"

#ifdef HIPREADER_HAS_DOCUMENTS
#include "document_cli.h"
#endif

#include <cstdio>
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
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    const hip::GenerateOptions options = generateOptions(args);
#ifdef HIPREADER_HAS_DOCUMENTS
    const int pages = int(args.integer("pages", 5));
#endif
    if (!args.error().empty()) return fail(args.error());

#ifdef HIPREADER_HAS_DOCUMENTS
    // The document is read before the model loads, so a damaged file fails fast.
    std::optional<hip::doc::DocumentText> book;
    if (auto path = args.value("doc")) {
        book = readDocumentFile(*path, args.value("password"));
        if (!book) return 1;
    }
#endif
    std::string document;
    if (auto path = args.value("text")) {
        std::ifstream in(*path, std::ios::binary);
        if (!in) return fail("cannot read " + *path);
        std::ostringstream content;
        content << in.rdbuf();
        document = content.str();
    }

    auto engine = loadEngine(load);
    if (!engine) return 1;
    auto session = engine->newSession();
    if (!document.empty())
        session->setSystemPrompt("Answer the user's questions about the following text.\n\n" +
                                 document);
#ifdef HIPREADER_HAS_DOCUMENTS
    std::optional<hip::doc::DocumentTokens> tokens;
    if (book) {
        tokens = ingestDocumentFile(*session, *book);
        if (!tokens) return 1;
    }
#endif
    resetInterrupt();
    auto answer = session->ask(
        *question, options,
        [](std::string_view piece) {
            std::cout << piece << std::flush;
            return true;
        },
        interruptToken());
    std::cout << std::endl;
    if (!answer) return fail(answer.message());
#ifdef HIPREADER_HAS_DOCUMENTS
    if (book && answer->stopReason != hip::StopReason::Cancelled)
        printAttendedPages(*session, *book, *tokens, pages);
#endif
    if (args.has("stats")) printStats(*answer);
    return answer->stopReason == hip::StopReason::Cancelled ? 130 : 0;
}

} // namespace cli
