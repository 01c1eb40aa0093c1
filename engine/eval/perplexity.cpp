// Perplexity of dense attention and HiP on the same text. One pass per attention over the
// longest window gives every window: the model is causal, and with the dense crossover off, so
// is HiP (a query block's mask depends only on keys before it).

#include "eval/eval_common.h"
#include "hip/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace hip::eval {
namespace {

// Tokens per Session::evaluate call: every position's logits are kept until the call returns,
// so this bounds that memory (tokens x vocab floats).
constexpr int64_t kPieceTokens = 256;

// -log p(tokens[t + 1] | tokens[0..t]) for every t but the last, with `attention`.
Result<std::vector<double>> tokenLosses(Engine& engine, const AttentionConfig& attention,
                                        const std::vector<int32_t>& tokens,
                                        const std::string& stage, const ProgressCallback& progress,
                                        const CancelToken& cancel) {
    AttentionScope scope(engine);
    HIP_TRY(scope.use(attention));
    auto session = engine.newSession();
    const int64_t count = int64_t(tokens.size());
    std::vector<double> losses;
    losses.reserve(size_t(count - 1));
    for (int64_t first = 0; first < count; first += kPieceTokens) {
        if (progress) progress({stage, first, count});
        const int64_t end = std::min(count, first + kPieceTokens);
        auto logits = session->evaluate(
            {tokens.begin() + ptrdiff_t(first), tokens.begin() + ptrdiff_t(end)}, true, cancel);
        HIP_TRY(logits);
        const size_t vocab = logits->size() / size_t(end - first);
        for (int64_t t = first; t < std::min(end, count - 1); ++t) {
            const float* row = logits->data() + size_t(t - first) * vocab;
            const float peak = *std::max_element(row, row + vocab);
            double total = 0;
            for (size_t v = 0; v < vocab; ++v)
                total += std::exp(double(row[v] - peak));
            losses.push_back(std::log(total) + peak - row[tokens[size_t(t + 1)]]);
        }
    }
    if (progress) progress({stage, count, count});
    return losses;
}

// exp of the mean loss over predictions [first, end).
double perplexity(const std::vector<double>& losses, int64_t first, int64_t end) {
    double sum = 0;
    for (int64_t t = first; t < end; ++t)
        sum += losses[size_t(t)];
    return std::exp(sum / double(end - first));
}

} // namespace

Result<PerplexityReport> measurePerplexity(Engine& engine, const PerplexityOptions& options,
                                           const ProgressCallback& progress,
                                           const CancelToken& cancel) {
    if (options.attention.mode == AttentionConfig::Mode::Dense)
        return makeError(ErrorCode::InvalidArgument,
                         "perplexity compares a HiP configuration with dense attention; choose a "
                         "HiP preset");
    HIP_TRY(options.attention.validate());
    if (options.lengths.empty() ||
        *std::min_element(options.lengths.begin(), options.lengths.end()) < 4)
        return makeError(ErrorCode::InvalidArgument, "perplexity windows must be >= 4 tokens");
    const int64_t longest = *std::max_element(options.lengths.begin(), options.lengths.end());
    if (longest > engine.contextTokens())
        return makeError(ErrorCode::InvalidArgument,
                         "a window of " + std::to_string(longest) +
                             " tokens needs a context that large; the engine holds " +
                             std::to_string(engine.contextTokens()));
    auto tokens = leadingTokens(engineState(engine), options.text, longest);
    HIP_TRY(tokens);

    using Clock = std::chrono::steady_clock;
    PerplexityReport report;
    auto start = Clock::now();
    auto dense = tokenLosses(engine, AttentionConfig{}, *tokens, "perplexity, dense attention",
                             progress, cancel);
    HIP_TRY(dense);
    report.denseSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    auto hip = tokenLosses(engine, alwaysPruning(options.attention), *tokens,
                           "perplexity, " + options.attention.name, progress, cancel);
    HIP_TRY(hip);
    report.hipSeconds = std::chrono::duration<double>(Clock::now() - start).count();

    std::vector<int64_t> lengths = options.lengths;
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    for (int64_t length : lengths) {
        // A window of `length` tokens makes length - 1 predictions.
        const int64_t predictions = length - 1, half = length / 2;
        report.rows.push_back(
            {length, perplexity(*dense, 0, predictions), perplexity(*hip, 0, predictions),
             perplexity(*dense, half, predictions), perplexity(*hip, half, predictions)});
    }
    return report;
}

} // namespace hip::eval
