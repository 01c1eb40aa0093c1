#include "cli_common.h"
#include "commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace cli {

int runAsk(Arguments& args) {
    if (!args.validate(unite({kModelOptions, kSamplingOptions, {"text", "question", "stats"}})))
        return fail(args.error());
    auto question = args.value("question");
    if (!question && !args.positional().empty()) question = args.positional().back();
    if (!question) return fail("ask needs a question: --question TEXT");
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    const hip::GenerateOptions options = generateOptions(args);
    if (!args.error().empty()) return fail(args.error());

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
    if (args.has("stats")) printStats(*answer);
    return answer->stopReason == hip::StopReason::Cancelled ? 130 : 0;
}

} // namespace cli
