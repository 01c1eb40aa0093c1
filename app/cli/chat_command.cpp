#include "cli_common.h"
#include "commands.h"

#include <cstdio>
#include <iostream>
#include <string>

namespace cli {

int runChat(Arguments& args) {
    if (!args.validate(unite({kModelOptions, kSamplingOptions, {"system", "stats"}})))
        return fail(args.error());
    const auto choice = generationChoice(args);
    if (!choice) return 1;

    auto engine = loadEngine(choice->load);
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
        auto answer =
            streamToStdout([&](const hip::TokenSink& sink, const hip::CancelToken& cancel) {
                return session->ask(line, choice->generate, sink, cancel);
            });
        if (!answer) return fail(answer.message());
        if (answer->stopReason == hip::StopReason::Cancelled) std::fprintf(stderr, "(stopped)\n");
        if (args.has("stats")) printStats(*answer);
    }
    return 0;
}

} // namespace cli
