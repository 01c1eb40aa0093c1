#include "cli_common.h"
#include "commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace cli {
namespace {

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Prefill of a prompt of random tokens, then greedy decoding, timed separately; the median of
// several repetitions in a fresh session each.
int benchGenerate(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"prompt-tokens", "gen-tokens", "repeat"}})))
        return fail(args.error());
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    const int64_t promptTokens = args.integer("prompt-tokens", 512);
    const int64_t genTokens = args.integer("gen-tokens", 64);
    const int64_t repeat = args.integer("repeat", 3);
    if (!args.error().empty()) return fail(args.error());
    if (promptTokens < 1 || genTokens < 1 || repeat < 1)
        return fail("--prompt-tokens, --gen-tokens and --repeat must be positive");

    auto engine = loadEngine(load);
    if (!engine) return 1;
    const hip::ModelInfo& info = engine->info();
    if (promptTokens + genTokens > (load.contextTokens ? load.contextTokens : info.contextLength))
        return fail("prompt and generated tokens exceed the context; raise --context");

    std::mt19937 random(1234);
    // Ids away from the special tokens at the start of the vocabulary.
    std::uniform_int_distribution<int32_t> tokenId(256, int32_t(info.vocabSize) - 1);
    std::vector<double> prefillRates, decodeRates;
    for (int64_t r = 0; r < repeat; ++r) {
        auto session = engine->newSession();
        std::vector<int32_t> prompt(static_cast<size_t>(promptTokens));
        for (auto& t : prompt)
            t = tokenId(random);

        using Clock = std::chrono::steady_clock;
        auto start = Clock::now();
        auto logits = session->evaluate(prompt, false, interruptToken());
        if (!logits) return fail(logits.message());
        prefillRates.push_back(double(promptTokens) /
                               std::chrono::duration<double>(Clock::now() - start).count());

        start = Clock::now();
        for (int64_t g = 0; g < genTokens; ++g) {
            const int32_t next =
                int32_t(std::max_element(logits->begin(), logits->end()) - logits->begin());
            logits = session->evaluate({next}, false, interruptToken());
            if (!logits) return fail(logits.message());
        }
        decodeRates.push_back(double(genTokens) /
                              std::chrono::duration<double>(Clock::now() - start).count());
    }

    std::printf(
        "| model | device | prompt tokens | prefill tok/s | generated tokens | decode tok/s |\n");
    std::printf("|---|---|---|---|---|---|\n");
    std::printf("| %s | %s | %lld | %.1f | %lld | %.2f |\n", info.name.c_str(),
                engine->memory().device.c_str(), (long long)promptTokens, median(prefillRates),
                (long long)genTokens, median(decodeRates));
    std::printf("(median of %lld runs)\n", (long long)repeat);
    return 0;
}

} // namespace

int runBench(Arguments& args) {
    const auto& words = args.positional();
    if (words.empty() || words[0] != "generate")
        return fail("bench needs a benchmark name: bench generate");
    return benchGenerate(args);
}

} // namespace cli
