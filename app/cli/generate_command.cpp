#include "cli_common.h"
#include "commands.h"

#include <cstdio>
#include <iostream>

namespace cli {

int runGenerate(Arguments& args) {
    if (!args.validate(unite({kModelOptions, kSamplingOptions, {"prompt", "stats"}})))
        return fail(args.error());
    auto prompt = args.value("prompt");
    if (!prompt && args.positional().size() == 1) prompt = args.positional()[0];
    if (!prompt) return fail("generate needs a prompt: --prompt TEXT");
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    const hip::GenerateOptions options = generateOptions(args);
    if (!args.error().empty()) return fail(args.error());

    auto engine = loadEngine(load);
    if (!engine) return 1;
    auto session = engine->newSession();
    std::cout << *prompt << std::flush;
    resetInterrupt();
    auto answer = session->complete(
        *prompt, options,
        [](std::string_view piece) {
            std::cout << piece << std::flush;
            return true;
        },
        interruptToken());
    std::cout << std::endl;
    if (!answer) return fail(answer.message());
    if (args.has("stats")) printStats(*answer);
    return 0;
}

} // namespace cli
