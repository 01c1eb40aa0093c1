#include "cli_common.h"
#include "commands.h"

#ifdef HIPREADER_HAS_CUDA
#include "bench_kernels.h"
#endif

#ifdef HIPREADER_HAS_DOCUMENTS
#include "document_cli.h"
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cli {
namespace {

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Prefill of a prompt of random tokens, then greedy decoding, timed separately; the median of
// several repetitions in a fresh session each, for each prompt length (decode speed depends on
// the context it attends to).
int benchGenerate(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"prompt-tokens", "gen-tokens", "repeat"}})))
        return fail(args.error());
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    const hip::LoadOptions& load = *loadChoice;
    std::vector<int64_t> promptLengths;
    {
        std::stringstream list(args.value("prompt-tokens", "512"));
        std::string item;
        while (std::getline(list, item, ','))
            promptLengths.push_back(std::atoll(item.c_str()));
    }
    const int64_t genTokens = args.integer("gen-tokens", 64);
    const int64_t repeat = args.integer("repeat", 3);
    if (!args.error().empty()) return fail(args.error());
    if (promptLengths.empty() || genTokens < 1 || repeat < 1 ||
        *std::min_element(promptLengths.begin(), promptLengths.end()) < 1)
        return fail("--prompt-tokens, --gen-tokens and --repeat must be positive");

    auto engine = loadEngine(load);
    if (!engine) return 1;
    const hip::ModelInfo& info = engine->info();
    const int64_t longest = *std::max_element(promptLengths.begin(), promptLengths.end());
    if (longest + genTokens > (load.contextTokens ? load.contextTokens : info.contextLength))
        return fail("prompt and generated tokens exceed the context; raise --context");

    std::printf(
        "| model | device | prompt tokens | prefill tok/s | generated tokens | decode tok/s |\n");
    std::printf("|---|---|---|---|---|---|\n");
    std::mt19937 random(1234);
    // Ids away from the special tokens at the start of the vocabulary.
    std::uniform_int_distribution<int32_t> tokenId(256, int32_t(info.vocabSize) - 1);
    for (const int64_t promptTokens : promptLengths) {
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
        std::printf("| %s | %s | %lld | %.1f | %lld | %.2f |\n", info.name.c_str(),
                    engine->memory().device.c_str(), (long long)promptTokens, median(prefillRates),
                    (long long)genTokens, median(decodeRates));
        std::fflush(stdout);
    }
    std::printf("(median of %lld runs)\n", (long long)repeat);
    return 0;
}

#ifdef HIPREADER_HAS_DOCUMENTS
// Text extraction (pages/s) and tokenization (tokens/s) of a document, each the median of
// several runs; the model is only needed for its tokenizer.
int benchDocuments(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"doc", "password", "repeat"}})))
        return fail(args.error());
    const auto path = args.value("doc");
    if (!path)
        return fail("bench documents needs --doc FILE (scripts/make_bench_pdf.py writes one)");
    const int64_t repeat = args.integer("repeat", 3);
    const auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    if (!args.error().empty()) return fail(args.error());
    if (repeat < 1) return fail("--repeat must be positive");

    using Clock = std::chrono::steady_clock;
    std::vector<double> extraction, tokenization;
    std::optional<hip::doc::DocumentText> document;
    for (int64_t r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
        document = readDocumentFile(*path, args.value("password"), r > 0);
        if (!document) return 1;
        extraction.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    auto engine = loadEngine(*loadChoice);
    if (!engine) return 1;
    int64_t tokens = 0;
    for (int64_t r = 0; r < repeat; ++r) {
        const auto start = Clock::now();
        tokens = engine->countTokens(document->text);
        tokenization.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }

    const double readSeconds = median(extraction), tokenSeconds = median(tokenization);
    std::printf("| document | pages | text bytes | extraction s | pages/s | tokens | "
                "tokenization s | tokens/s |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    std::printf("| %s | %zu | %zu | %.2f | %.1f | %lld | %.2f | %.0f |\n",
                document->title.toStdString().c_str(), document->pages.size(),
                document->text.size(), readSeconds, double(document->pages.size()) / readSeconds,
                (long long)tokens, tokenSeconds, double(tokens) / tokenSeconds);
    std::printf("(median of %lld runs; tokenizer of %s)\n", (long long)repeat,
                engine->info().name.c_str());
    return 0;
}
#endif

} // namespace

int runBench(Arguments& args) {
    const auto& words = args.positional();
    if (!words.empty() && words[0] == "generate") return benchGenerate(args);
#ifdef HIPREADER_HAS_CUDA
    if (!words.empty() && words[0] == "kernels") return benchKernels(args);
#else
    if (!words.empty() && words[0] == "kernels")
        return fail("bench kernels needs a build with CUDA");
#endif
#ifdef HIPREADER_HAS_DOCUMENTS
    if (!words.empty() && words[0] == "documents") return benchDocuments(args);
    return fail("bench needs a benchmark name: bench generate | bench documents");
#else
    return fail("bench needs a benchmark name: bench generate (bench documents needs a build "
                "with document support)");
#endif
}

} // namespace cli
