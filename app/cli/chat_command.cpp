#include "cli_common.h"
#include "commands.h"

#include <cstdio>
#include <iostream>
#include <string>

namespace cli {

int runChat(Arguments& args) {
    if (!args.validate(unite({kModelOptions, kSamplingOptions, {"system", "stats"}})))
        return fail(args.error());
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    const hip::GenerateOptions options = generateOptions(args);
    if (!args.error().empty()) return fail(args.error());

    auto engine = loadEngine(load);
    if (!engine) return 1;
    auto session = engine->newSession();
    if (auto system = args.value("system")) session->setSystemPrompt(*system);

    std::fprintf(stderr,
                 "Chatting with %s on %s. Ctrl-C stops an answer, Ctrl-D or /quit ends, "
                 "/reset starts over.\n",
                 engine->info().name.c_str(), engine->memory().device.c_str());
    std::string line;
    for (;;) {
        std::cout << "\n> " << std::flush;
        if (!std::getline(std::cin, line) || line == "/quit") break;
        if (line.empty()) continue;
        if (line == "/reset") {
            session->reset();
            std::fprintf(stderr, "(conversation cleared)\n");
            continue;
        }
        resetInterrupt();
        auto answer = session->ask(
            line, options,
            [](std::string_view piece) {
                std::cout << piece << std::flush;
                return true;
            },
            interruptToken());
        std::cout << std::endl;
        if (!answer) return fail(answer.message());
        if (answer->stopReason == hip::StopReason::Cancelled) std::fprintf(stderr, "(stopped)\n");
        if (args.has("stats")) printStats(*answer);
    }
    return 0;
}

} // namespace cli
