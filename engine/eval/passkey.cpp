// Passkey retrieval: a five-digit number hidden at a chosen depth in repeated filler text,
// asked for with the chat template, answered greedily with dense attention and with HiP.
//
// Everything goes into one user turn (instructions, text, question): SmolLM2-135M-Instruct finds
// the key that way, while it ignores a key given in the system prompt.

#include "eval/eval_common.h"
#include "hip/session.h"

#include <algorithm>
#include <random>
#include <sstream>

namespace hip::eval {
namespace {

constexpr const char* kIntroduction =
    "There is a pass key hidden in the following text. Find it and remember it.\n\n";
constexpr const char* kFiller = "The grass is green. The sky is blue. The sun is yellow. Here we "
                                "go. There and back again. ";
constexpr const char* kQuestion = "\n\nWhat is the pass key?";
constexpr int32_t kAnswerTokens = 12;

std::string needle(const std::string& key) {
    return "The pass key is " + key + ". Remember it. " + key + " is the pass key. ";
}

// The user turn with `fillers` repetitions of the filler, the key after the first
// round(fillers * depth) of them.
std::string passkeyText(int64_t fillers, double depth, const std::string& key) {
    const auto before = int64_t(std::lround(double(fillers) * depth));
    std::string text = kIntroduction;
    for (int64_t i = 0; i < fillers; ++i) {
        if (i == before) text += needle(key);
        text += kFiller;
    }
    if (before >= fillers) text += needle(key);
    return text + kQuestion;
}

// Tokens the prompt takes as Session::ask renders and tokenizes it.
int64_t promptTokens(const EngineState& state, const std::string& userTurn) {
    const std::string prompt = state.chatTemplate.render({{"user", userTurn}}, true);
    return int64_t(
        state.tokenizer->encode(prompt, {.addSpecial = true, .parseSpecial = true}).ids.size());
}

// The filler count whose prompt comes closest to `target` tokens (the filler tokenizes the same
// way every time, so two linear steps land within a few tokens).
int64_t fillersFor(const EngineState& state, int64_t target, double depth, const std::string& key) {
    const int64_t perFiller = promptTokens(state, passkeyText(101, depth, key)) -
                              promptTokens(state, passkeyText(100, depth, key));
    int64_t fillers = 1;
    for (int step = 0; step < 2; ++step) {
        const int64_t tokens = promptTokens(state, passkeyText(fillers, depth, key));
        fillers =
            std::max<int64_t>(1, fillers + (target - tokens) / std::max<int64_t>(1, perFiller));
    }
    return fillers;
}

Result<Answer> askGreedy(Engine& engine, const AttentionConfig& attention,
                         const std::string& userTurn, const CancelToken& cancel) {
    AttentionScope scope(engine);
    HIP_TRY(scope.use(attention));
    GenerateOptions options;
    options.maxTokens = kAnswerTokens;
    options.sampler.temperature = 0.0f;
    auto answer = engine.newSession()->ask(userTurn, options, {}, cancel);
    if (answer && answer->stopReason == StopReason::Cancelled)
        return makeError(ErrorCode::Cancelled, "cancelled");
    return answer;
}

// The answer on one line, for tables.
std::string oneLine(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

} // namespace

Result<PasskeyReport> measurePasskey(Engine& engine, const PasskeyOptions& options,
                                     const ProgressCallback& progress, const CancelToken& cancel) {
    if (options.attention.mode == AttentionConfig::Mode::Dense)
        return makeError(ErrorCode::InvalidArgument,
                         "passkey compares a HiP configuration with dense attention; choose a HiP "
                         "preset");
    HIP_TRY(options.attention.validate());
    for (double depth : options.depths)
        if (depth < 0 || depth > 1)
            return makeError(ErrorCode::InvalidArgument, "depths lie between 0 and 1");
    const EngineState& state = engineState(engine);
    const AttentionConfig hip = alwaysPruning(options.attention);
    std::mt19937_64 random(options.seed);
    std::uniform_int_distribution<int> digits(10000, 99999);

    PasskeyReport report;
    const int64_t total = int64_t(options.lengths.size() * options.depths.size());
    for (int64_t length : options.lengths) {
        for (double depth : options.depths) {
            PasskeyTrial trial;
            trial.targetTokens = length;
            trial.depth = depth;
            trial.key = std::to_string(digits(random));
            const std::string userTurn =
                passkeyText(fillersFor(state, length, depth, trial.key), depth, trial.key);
            trial.promptTokens = promptTokens(state, userTurn);
            if (trial.promptTokens + kAnswerTokens > engine.contextTokens())
                return makeError(ErrorCode::InvalidArgument,
                                 "a passkey prompt of " + std::to_string(trial.promptTokens) +
                                     " tokens needs a context of " +
                                     std::to_string(trial.promptTokens + kAnswerTokens) +
                                     "; the engine holds " +
                                     std::to_string(engine.contextTokens()));
            std::ostringstream where;
            where << length << " tokens, depth " << depth;
            const int64_t done = int64_t(report.trials.size());
            trial.denseRun = length <= options.denseUpTo;
            if (trial.denseRun) {
                if (progress) progress({"passkey at " + where.str() + ", dense", done, total});
                auto dense = askGreedy(engine, AttentionConfig{}, userTurn, cancel);
                HIP_TRY(dense);
                trial.denseAnswer = oneLine(dense->text);
                trial.denseFound = trial.denseAnswer.find(trial.key) != std::string::npos;
            }
            if (progress) progress({"passkey at " + where.str() + ", " + hip.name, done, total});
            auto sparse = askGreedy(engine, hip, userTurn, cancel);
            HIP_TRY(sparse);
            trial.hipAnswer = oneLine(sparse->text);
            trial.hipFound = trial.hipAnswer.find(trial.key) != std::string::npos;
            report.trials.push_back(std::move(trial));
        }
    }
    if (progress) progress({"passkey", total, total});
    return report;
}

} // namespace hip::eval
