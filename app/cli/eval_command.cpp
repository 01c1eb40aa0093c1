// hipreader-cli eval: how much quality HiP keeps against dense attention (eval sources, the cited
// pages, is in eval_sources.cpp). Each evaluation prints a markdown table on stdout (and writes
// it as CSV with --csv FILE); progress goes to stderr.

#include "cli_common.h"
#include "commands.h"
#include "eval_common.h"
#ifdef HIPREADER_HAS_DOCUMENTS
#include "eval_sources.h"
#endif
#include "plot_png.h"

#include <hip/evaluation.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

namespace cli {
namespace {

std::string percentChange(double from, double to) {
    return (to >= from ? "+" : "") + fixed(100.0 * (to / from - 1.0), 2) + "%";
}

std::optional<std::vector<double>> parseNumbers(const std::string& text) {
    std::vector<double> values;
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double value = std::strtod(item.c_str(), &end);
        if (end == item.c_str() || *end != '\0') return std::nullopt;
        values.push_back(value);
    }
    if (values.empty()) return std::nullopt;
    return values;
}

// What every evaluation needs: the HiP configuration under test (--attention, default hip-3k)
// and an engine loaded with dense attention and at least `contextTokens` of KV capacity (or
// what --context says).
struct Setup {
    hip::AttentionConfig hip;
    std::unique_ptr<hip::Engine> engine;
};

// Evaluations that capture real queries and keys (recall, locality) read them from the CPU
// backend's cache, so they load on the CPU unless --device says otherwise.
enum class Captures { No, Yes };

std::optional<Setup> setUp(Arguments& args, int64_t contextTokens, Captures captures) {
    auto hipConfig = attentionConfig(args, "hip-3k");
    if (!hipConfig) return std::nullopt;
    if (hipConfig->mode == hip::AttentionConfig::Mode::Dense) {
        fail("eval compares a HiP configuration with dense attention: choose a HiP preset with "
             "--attention");
        return std::nullopt;
    }
    auto load = loadOptions(args);
    if (!load) return std::nullopt;
    load->attention = hip::AttentionConfig{};
    if (!args.has("context")) load->contextTokens = contextTokens;
    if (captures == Captures::Yes && !args.has("device")) load->device = hip::Device::Cpu;
    auto engine = loadEngine(*load);
    if (!engine) return std::nullopt;
    return Setup{*hipConfig, std::move(engine)};
}

int evalRecall(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"text", "length", "samples", "seed", "csv"}})))
        return fail(args.error());
    hip::eval::RecallOptions options;
    options.contextTokens = args.integer("length", options.contextTokens);
    options.samples = int32_t(args.integer("samples", options.samples));
    options.seed = uint64_t(args.integer("seed", int64_t(options.seed)));
    if (!args.error().empty()) return fail(args.error());
    auto text = readText(args);
    if (!text) return 1;
    options.text = std::move(*text);
    auto setup = setUp(args, options.contextTokens, Captures::Yes);
    if (!setup) return 1;
    options.attention = setup->hip;

    const auto start = Clock::now();
    auto report =
        hip::eval::measureRecall(*setup->engine, options, progressPrinter(), interruptToken());
    endProgress();
    if (!report) return fail(report.message());

    const hip::AttentionConfig& c = options.attention;
    std::printf("Recall of the dense attention mass: %s, %s, context %lld tokens, %d query "
                "blocks of %d rows in its last quarter.\n\n",
                setup->engine->info().name.c_str(), c.name.c_str(),
                (long long)report->contextTokens, report->samples, report->rowsPerSample);
    Table table{
        {"layer", "HiP", "oracle", "StreamingLLM", "random", "keys attended", "keys visible"}, {}};
    auto addRow = [&](const std::string& name, const hip::eval::LayerRecall& l) {
        table.rows.push_back({name, fixed(l.shares.hip, 3), fixed(l.shares.oracle, 3),
                              fixed(l.shares.streaming, 3), fixed(l.shares.random, 3),
                              fixed(l.attendedKeys, 0), fixed(l.visibleKeys, 0)});
    };
    for (const hip::eval::LayerRecall& l : report->layers)
        addRow(std::to_string(l.layer), l);
    addRow("mean", report->mean());
    const int status = finish(args, table, start);
    std::printf(
        "\nShare of each query's exact attention probability (softmax over every visible key "
        "at true rope positions; mean over rows and heads) that falls on the keys a method "
        "attends. All attend the %d sinks and the %d-token window; beyond them HiP attends its "
        "real mask, the oracle as many keys chosen by probability per row and head, random as "
        "many key blocks drawn uniformly from HiP's candidates; StreamingLLM nothing more.\n",
        c.sinkTokens, c.windowTokens);
    return status;
}

int evalPerplexity(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"text", "lengths", "csv"}})))
        return fail(args.error());
    hip::eval::PerplexityOptions options;
    if (auto lengths = args.value("lengths")) {
        auto parsed = parseLengths(*lengths);
        if (!parsed)
            return fail("--lengths expects tokens like 2048,4K,8K, got '" + *lengths + "'");
        options.lengths = *parsed;
    }
    auto text = readText(args);
    if (!text) return 1;
    options.text = std::move(*text);
    auto setup = setUp(args, *std::max_element(options.lengths.begin(), options.lengths.end()),
                       Captures::No);
    if (!setup) return 1;
    options.attention = setup->hip;

    const auto start = Clock::now();
    auto report =
        hip::eval::measurePerplexity(*setup->engine, options, progressPrinter(), interruptToken());
    endProgress();
    if (!report) return fail(report.message());

    const std::string name = options.attention.name;
    std::printf("Perplexity, dense attention and %s (pruning at every length): %s, the first N "
                "tokens of the text.\n\n",
                name.c_str(), setup->engine->info().name.c_str());
    Table table{{"tokens", "dense", name, "change", "dense, 2nd half", name + ", 2nd half",
                 "change, 2nd half"},
                {}};
    for (const hip::eval::PerplexityRow& r : report->rows)
        table.rows.push_back({std::to_string(r.tokens), fixed(r.dense, 3), fixed(r.hip, 3),
                              percentChange(r.dense, r.hip), fixed(r.denseTail, 3),
                              fixed(r.hipTail, 3), percentChange(r.denseTail, r.hipTail)});
    const int status = finish(args, table, start);
    std::printf("\nOne pass per attention over the longest window gives every window (the "
                "model is causal): dense %.0f s, %s %.0f s.\n",
                report->denseSeconds, name.c_str(), report->hipSeconds);
    return status;
}

int evalPasskey(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"lengths", "depths", "seed", "csv", "dense-up-to"}})))
        return fail(args.error());
    hip::eval::PasskeyOptions options;
    if (auto denseUpTo = args.value("dense-up-to")) {
        auto parsed = parseLengths(*denseUpTo);
        if (!parsed || parsed->size() != 1)
            return fail("--dense-up-to expects one length like 16K, got '" + *denseUpTo + "'");
        options.denseUpTo = parsed->front();
    }
    if (auto lengths = args.value("lengths")) {
        auto parsed = parseLengths(*lengths);
        if (!parsed) return fail("--lengths expects tokens like 1K,4K,32K, got '" + *lengths + "'");
        options.lengths = *parsed;
    }
    if (auto depths = args.value("depths")) {
        auto parsed = parseNumbers(*depths);
        if (!parsed)
            return fail("--depths expects numbers like 0.1,0.5,0.9, got '" + *depths + "'");
        options.depths = *parsed;
    }
    options.seed = uint64_t(args.integer("seed", int64_t(options.seed)));
    if (!args.error().empty()) return fail(args.error());
    // Prompts land within a few tokens of their target; the answer needs a few more.
    const int64_t longest = *std::max_element(options.lengths.begin(), options.lengths.end());
    auto setup = setUp(args, longest + 64, Captures::No);
    if (!setup) return 1;
    options.attention = setup->hip;

    const auto start = Clock::now();
    auto report =
        hip::eval::measurePasskey(*setup->engine, options, progressPrinter(), interruptToken());
    endProgress();
    if (!report) return fail(report.message());

    const std::string name = options.attention.name;
    std::printf("Passkey retrieval, dense attention and %s (pruning at every length): %s, "
                "greedy answers, trained context %lld tokens.\n\n",
                name.c_str(), setup->engine->info().name.c_str(),
                (long long)setup->engine->info().contextLength);
    Table table{{"tokens", "prompt tokens", "depth", "key", "dense", name, "dense answer",
                 name + " answer"},
                {}};
    auto yesNo = [](bool found) { return std::string(found ? "found" : "missed"); };
    // Pipes would break the markdown table.
    auto cell = [](std::string text) {
        std::replace(text.begin(), text.end(), '|', '/');
        return text;
    };
    for (const hip::eval::PasskeyTrial& t : report->trials)
        table.rows.push_back({std::to_string(t.targetTokens), std::to_string(t.promptTokens),
                              fixed(t.depth, 2), t.key,
                              t.denseRun ? yesNo(t.denseFound) : "not run", yesNo(t.hipFound),
                              cell(t.denseAnswer), cell(t.hipAnswer)});
    return finish(args, table, start);
}

int evalLocality(Arguments& args) {
    if (!args.validate(unite({kModelOptions, {"text", "length", "samples", "png", "csv"}})))
        return fail(args.error());
    hip::eval::LocalityOptions options;
    options.contextTokens = args.integer("length", options.contextTokens);
    options.samples = int32_t(args.integer("samples", options.samples));
    if (!args.error().empty()) return fail(args.error());
    if (args.has("png") && !pngOutputAvailable())
        return fail("--png needs Qt Gui, which this hipreader-cli was built without (install "
                    "qt6-base-dev and rebuild, or plot the --csv output elsewhere)");
    auto text = readText(args);
    if (!text) return 1;
    options.text = std::move(*text);
    auto setup = setUp(args, options.contextTokens, Captures::Yes);
    if (!setup) return 1;

    const auto start = Clock::now();
    auto report =
        hip::eval::measureLocality(*setup->engine, options, progressPrinter(), interruptToken());
    endProgress();
    if (!report) return fail(report.message());

    std::printf("Attention locality: standard deviation of s_i - s_j (scaled logits of one "
                "query) for key distances |i - j| in [d, 2d): %s, context %lld tokens, %d "
                "queries in its last quarter, the first %d keys left out.\n\n",
                setup->engine->info().name.c_str(), (long long)report->contextTokens,
                report->samples, options.sinkTokens);
    Table table{{"layer"}, {}};
    for (int64_t d : report->distances)
        table.header.push_back("d=" + std::to_string(d));
    auto addRow = [&](const std::string& name, const std::vector<double>& sigma) {
        std::vector<std::string> row{name};
        for (double s : sigma)
            row.push_back(fixed(s, 2));
        table.rows.push_back(std::move(row));
    };
    for (size_t layer = 0; layer < report->sigma.size(); ++layer)
        addRow(std::to_string(layer), report->sigma[layer]);
    const std::vector<double> mean = report->meanSigma();
    addRow("mean", mean);
    const int status = finish(args, table, start);
    if (status != 0) return status;

    if (auto path = args.value("png")) {
        LinePlot plot{"Attention locality: " + setup->engine->info().name + ", " +
                          std::to_string(report->contextTokens) + " tokens",
                      "key distance |i - j| (bucket start)",
                      "std. deviation of s_i - s_j",
                      true,
                      {}};
        const std::vector<double> x(report->distances.begin(), report->distances.end());
        const size_t layers = report->sigma.size();
        for (size_t layer = 0; layer < layers; ++layer) {
            // Early layers blue, late layers red.
            const double t = layers > 1 ? double(layer) / double(layers - 1) : 0.0;
            const auto red = uint32_t(std::lround(40 + 200 * t));
            const auto blue = uint32_t(std::lround(240 - 200 * t));
            const bool labelled = layer == 0 || layer + 1 == layers;
            plot.lines.push_back({x, report->sigma[layer], red << 16 | 80u << 8 | blue, 1.2,
                                  labelled ? "layer " + std::to_string(layer) : ""});
        }
        plot.lines.push_back({x, mean, 0x000000, 3.0, "mean over layers"});
        if (const std::string error = writePlotPng(plot, *path); !error.empty()) return fail(error);
        std::fprintf(stderr, "plot written to %s\n", path->c_str());
    }
    return 0;
}

} // namespace

int runEval(Arguments& args) {
    const auto& words = args.positional();
    const std::string name = words.empty() ? "" : words[0];
    if (name == "recall") return evalRecall(args);
    if (name == "ppl") return evalPerplexity(args);
    if (name == "passkey") return evalPasskey(args);
    if (name == "locality") return evalLocality(args);
#ifdef HIPREADER_HAS_DOCUMENTS
    if (name == "sources") return evalSources(args);
    return fail("eval needs an evaluation: recall, ppl, passkey, locality or sources");
#else
    if (name == "sources")
        return fail("this hipreader-cli was built without document support (Qt Gui, Poppler and "
                    "libzip), which eval sources needs");
    return fail("eval needs an evaluation: recall, ppl, passkey or locality");
#endif
}

} // namespace cli
