#include "cli_common.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <type_traits>

#include <unistd.h>

namespace cli {
namespace {

// The token the SIGINT handler fires. Firing it is one relaxed atomic store: async-signal-safe.
hip::CancelToken* activeInterrupt = nullptr;

extern "C" void onInterrupt(int) {
    if (activeInterrupt && !activeInterrupt->isCancelled()) {
        activeInterrupt->cancel();
        return;
    }
    std::_Exit(130);
}

} // namespace

const std::set<std::string> kModelOptions = {"model",
                                             "threads",
                                             "context",
                                             "allow-over-memory",
                                             "attention",
                                             "sinks",
                                             "window",
                                             "query-block",
                                             "dense-below",
                                             "stages",
                                             "first-layers",
                                             "first-layers-final",
                                             "tree-query-block",
                                             "tree-key-block",
                                             "tree-tokens",
                                             "tree-refresh",
                                             "tree-dense-layers",
                                             "device",
                                             "cpu-fallback",
                                             "int8-activations"};
const std::set<std::string> kSamplingOptions = {"max-tokens", "temperature",    "top-k", "top-p",
                                                "min-p",      "repeat-penalty", "seed"};

std::set<std::string> unite(std::initializer_list<std::set<std::string>> sets) {
    std::set<std::string> all;
    for (const auto& s : sets)
        all.insert(s.begin(), s.end());
    return all;
}

namespace {

// "256:32768:4:16,32:8192:4:8" -> stages of chunk:keep:stride:refresh.
std::optional<std::vector<hip::PruningStage>> parseStages(const std::string& text) {
    std::vector<hip::PruningStage> stages;
    size_t begin = 0;
    while (begin <= text.size()) {
        const size_t end = std::min(text.find(',', begin), text.size());
        hip::PruningStage stage;
        long long chunk = 0, keep = 0, stride = 0, refresh = 0;
        if (std::sscanf(text.substr(begin, end - begin).c_str(), "%lld:%lld:%lld:%lld", &chunk,
                        &keep, &stride, &refresh) != 4)
            return std::nullopt;
        stage.chunkSize = int32_t(chunk);
        stage.keepTokens = keep;
        stage.queryStride = int32_t(stride);
        stage.refreshInterval = int32_t(refresh);
        stages.push_back(stage);
        begin = end + 1;
    }
    return stages;
}

} // namespace

std::optional<hip::AttentionConfig> attentionConfig(Arguments& args,
                                                    const std::string& defaultPreset) {
    const std::string name = args.value("attention", defaultPreset);
    auto config = hip::AttentionConfig::preset(name);
    if (!config) {
        std::string names;
        for (const auto& n : hip::AttentionConfig::presetNames())
            names += " " + n;
        fail("unknown attention preset '" + name + "'; presets:" + names);
        return std::nullopt;
    }
    auto setInt = [&](const char* option, auto& field) {
        field = static_cast<std::remove_reference_t<decltype(field)>>(
            args.integer(option, static_cast<long long>(field)));
    };
    setInt("sinks", config->sinkTokens);
    setInt("window", config->windowTokens);
    setInt("query-block", config->queryBlock);
    // A number fixes the crossover; "auto" (the presets' choice) leaves it to the backend.
    if (const auto denseBelow = args.value("dense-below"); denseBelow && *denseBelow != "auto")
        config->denseBelowTokens = args.integer("dense-below", 0);
    setInt("first-layers", config->firstLayers);
    setInt("first-layers-final", config->firstLayersFinalTokens);
    setInt("tree-query-block", config->treeQueryBlock);
    setInt("tree-key-block", config->treeKeyBlock);
    setInt("tree-tokens", config->treeTokens);
    setInt("tree-refresh", config->treeRefreshInterval);
    setInt("tree-dense-layers", config->treeDenseLayers);
    if (auto stages = args.value("stages")) {
        auto parsed = parseStages(*stages);
        if (!parsed) {
            fail("--stages expects chunk:keep:stride:refresh[,...], got '" + *stages + "'");
            return std::nullopt;
        }
        config->stages = *parsed;
        config->name += " (custom stages)";
    }
    if (!args.error().empty()) {
        fail(args.error());
        return std::nullopt;
    }
    if (auto status = config->validate(); !status) {
        fail(status.message());
        return std::nullopt;
    }
    return config;
}

std::optional<hip::LoadOptions> loadOptions(Arguments& args) {
    hip::LoadOptions options;
    auto attention = attentionConfig(args);
    if (!attention) return std::nullopt;
    options.attention = *attention;
    options.model = args.value("model", hip::defaultModelPath().string());
    options.threads = int(args.integer("threads", 0));
    options.contextTokens = args.integer("context", 0);
    options.allowOverMemory = args.has("allow-over-memory");
    options.allowCpuFallback = args.has("cpu-fallback");
    options.int8CpuActivations = args.has("int8-activations");
    const std::string device = args.value("device", "auto");
    if (device == "auto")
        options.device = hip::Device::Automatic;
    else if (device == "cuda")
        options.device = hip::Device::Cuda;
    else if (device == "cpu")
        options.device = hip::Device::Cpu;
    else {
        fail("--device expects auto, cpu or cuda, got '" + device + "'");
        return std::nullopt;
    }
    if (!args.error().empty()) {
        fail(args.error());
        return std::nullopt;
    }
    return options;
}

hip::GenerateOptions generateOptions(Arguments& args) {
    hip::GenerateOptions options;
    options.maxTokens = int32_t(args.integer("max-tokens", options.maxTokens));
    auto& s = options.sampler;
    s.temperature = float(args.number("temperature", s.temperature));
    s.topK = int32_t(args.integer("top-k", s.topK));
    s.topP = float(args.number("top-p", s.topP));
    s.minP = float(args.number("min-p", s.minP));
    s.repetitionPenalty = float(args.number("repeat-penalty", s.repetitionPenalty));
    s.seed = uint64_t(args.integer("seed", 0));
    return options;
}

std::optional<GenerationChoice> generationChoice(Arguments& args) {
    auto load = loadOptions(args);
    if (!load) return std::nullopt;
    GenerationChoice choice{*load, generateOptions(args)};
    if (!args.error().empty()) {
        fail(args.error());
        return std::nullopt;
    }
    return choice;
}

hip::Result<hip::Answer> streamToStdout(const Generation& run) {
    resetInterrupt();
    auto answer = run(
        [](std::string_view piece) {
            std::cout << piece << std::flush;
            return true;
        },
        interruptToken());
    std::cout << std::endl;
    return answer;
}

std::optional<hip::LoadOptions> planForDocument(Arguments& args, const hip::LoadOptions& options,
                                                const std::string& text) {
    const auto tokens = hip::countTokens(options.model, text);
    if (!tokens) {
        fail(tokens.message());
        return std::nullopt;
    }
    const auto plan = hip::Engine::planForDocument(options, *tokens, args.has("attention"));
    if (!plan) {
        fail(plan.message());
        return std::nullopt;
    }
    const hip::MemoryEstimate& e = plan->estimate;
    std::fprintf(stderr,
                 "the document is %lld tokens: reading it with %s attention in a context of "
                 "%lld tokens; the model needs about %s on the %s (%s available)\n",
                 (long long)*tokens, plan->attention.name.c_str(), (long long)plan->contextTokens,
                 humanBytes(e.totalBytes()).c_str(), deviceLabel(e.device),
                 humanBytes(e.availableBytes).c_str());
    return hip::withPlan(options, *plan);
}

std::unique_ptr<hip::Engine> loadEngine(const hip::LoadOptions& options) {
    resetInterrupt();
    // A progress line only makes sense on a terminal; redirected output stays clean.
    const bool terminal = isatty(STDERR_FILENO);
    hip::ProgressCallback progress;
    if (terminal)
        progress = [](const hip::Progress& p) {
            std::fprintf(stderr, "\r%s %lld/%lld\033[K", p.stage.c_str(), (long long)p.done,
                         (long long)p.total);
        };
    auto engine = hip::Engine::load(options, progress, interruptToken());
    if (terminal) std::fprintf(stderr, "\r\033[K");
    if (!engine) {
        fail(engine.message());
        return nullptr;
    }
    for (const std::string& warning : (*engine)->warnings())
        std::fprintf(stderr, "hipreader-cli: warning: %s\n", warning.c_str());
    if ((*engine)->attention().mode != hip::AttentionConfig::Mode::Dense) {
        const hip::DenseCrossover& crossover = (*engine)->denseCrossover();
        std::fprintf(stderr,
                     "hipreader-cli: %s: layers run dense below %lld tokens in prefill, %lld in "
                     "decode (%s)\n",
                     (*engine)->attention().name.c_str(), (long long)crossover.prefillTokens,
                     (long long)crossover.decodeTokens,
                     crossover.measured ? "timed at load" : "fixed");
    }
    return std::move(*engine);
}

int fail(const std::string& message) {
    std::cerr << "hipreader-cli: " << message << '\n';
    return 1;
}

const char* deviceLabel(hip::Device device) {
    return device == hip::Device::Cuda ? "GPU" : "CPU";
}

std::string humanBytes(uint64_t bytes) {
    char text[32];
    if (bytes >= (1ull << 30))
        std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(1ull << 30));
    else if (bytes >= (1ull << 20))
        std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1ull << 20));
    else
        std::snprintf(text, sizeof text, "%.1f KiB", double(bytes) / 1024.0);
    return text;
}

void printStats(const hip::Answer& answer) {
    const hip::GenerationStats& s = answer.stats;
    std::fprintf(stderr,
                 "[%lld prompt tokens (%lld reused) at %.1f tok/s, %lld generated at %.1f tok/s, "
                 "stop: %s]\n",
                 (long long)s.promptTokens, (long long)s.reusedTokens, s.prefillTokensPerSecond(),
                 (long long)s.generatedTokens, s.decodeTokensPerSecond(),
                 std::string(hip::stopReasonName(answer.stopReason)).c_str());
}

hip::CancelToken interruptToken() {
    if (!activeInterrupt) resetInterrupt();
    return *activeInterrupt;
}

void resetInterrupt() {
    static hip::CancelToken tokens[2];
    static int current = 0;
    // Alternate between two long-lived tokens so the handler never sees a destroyed one.
    current ^= 1;
    tokens[current] = hip::CancelToken();
    activeInterrupt = &tokens[current];
    std::signal(SIGINT, onInterrupt);
}

} // namespace cli
