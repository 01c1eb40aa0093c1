#include "cli_common.h"
#include "commands.h"

#include <iostream>

namespace cli {

int runGenerate(Arguments& args) {
    if (!args.validate(unite({kModelOptions, kSamplingOptions, {"prompt", "stats"}})))
        return fail(args.error());
    auto prompt = args.value("prompt");
    if (!prompt && args.positional().size() == 1) prompt = args.positional()[0];
    if (!prompt) return fail("generate needs a prompt: --prompt TEXT");
    const auto choice = generationChoice(args);
    if (!choice) return 1;

    auto engine = loadEngine(choice->load);
    if (!engine) return 1;
    auto session = engine->newSession();
    std::cout << *prompt << std::flush;
    auto answer = streamToStdout([&](const hip::TokenSink& sink, const hip::CancelToken& cancel) {
        return session->complete(*prompt, choice->generate, sink, cancel);
    });
    if (!answer) return fail(answer.message());
    if (args.has("stats")) printStats(*answer);
    return 0;
}

} // namespace cli
