// Attention locality, the statistic HiP rests on: keys close to each other score alike, so one
// representative can stand for a span. For sampled queries it measures the spread of the score
// difference s_i - s_j against the key distance |i - j|, in power-of-two distance buckets.

#include "eval/attention_capture.h"
#include "eval/dense_logits.h"

#include <cmath>
#include <limits>

namespace hip::eval {
namespace {

// Running moments of the score differences of one distance bucket.
struct Moments {
    double count = 0, sum = 0, squares = 0;

    void add(double x) {
        count += 1;
        sum += x;
        squares += x * x;
    }
    void add(const Moments& other) {
        count += other.count;
        sum += other.sum;
        squares += other.squares;
    }
    double deviation() const {
        if (count < 2) return std::numeric_limits<double>::quiet_NaN();
        const double mean = sum / count;
        return std::sqrt(std::max(0.0, squares / count - mean * mean));
    }
};

// A well-mixed 64-bit value of `x` (splitmix64's finalizer): picks distances reproducibly.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Adds the differences of one query's logits over keys [first, position]: every key i is paired,
// in each bucket b, with the key at i + d for one d drawn from [2^b, 2^(b+1)).
void addDifferences(const float* logits, int64_t first, int64_t position,
                    std::vector<Moments>& buckets) {
    for (size_t b = 0; b < buckets.size(); ++b) {
        const int64_t low = int64_t(1) << b;
        for (int64_t i = first; i + low <= position; ++i) {
            const int64_t j = i + low + int64_t(mix(uint64_t(i) << 6 | b) % uint64_t(low));
            if (j <= position) buckets[b].add(double(logits[j]) - double(logits[i]));
        }
    }
}

} // namespace

std::vector<double> LocalityReport::meanSigma() const {
    std::vector<double> mean(distances.size(), 0.0);
    for (size_t b = 0; b < distances.size(); ++b) {
        for (const auto& layer : sigma)
            mean[b] += layer[b];
        mean[b] /= double(std::max<size_t>(sigma.size(), 1));
    }
    return mean;
}

Result<LocalityReport> measureLocality(Engine& engine, const LocalityOptions& options,
                                       const ProgressCallback& progress,
                                       const CancelToken& cancel) {
    const int64_t length = options.contextTokens;
    if (options.samples < 1 || options.sinkTokens < 0 || length < options.sinkTokens + 4)
        return makeError(ErrorCode::InvalidArgument,
                         "locality needs at least one sample and a context a few tokens longer "
                         "than the skipped sinks");
    EngineState& state = engineState(engine);
    auto tokens = leadingTokens(state, options.text, length);
    HIP_TRY(tokens);
    auto capture =
        captureAttention(engine, *tokens, evenlySpread(length * 3 / 4, length - 1, options.samples),
                         progress, cancel);
    HIP_TRY(capture);
    CapturedAttention& captured = **capture;

    const model::ModelConfig& model = state.transformer->config();
    const backend::AttentionParams params = model.attentionParams();
    attention::Rope rope(params.rope);
    rope.prepare(length);
    ThreadPool pool(evaluationThreads(state));
    const std::vector<int64_t>& positions = captured.queryPositions();

    LocalityReport report;
    report.contextTokens = length;
    report.samples = int32_t(positions.size());
    for (int64_t d = 1; d <= length - 1 - options.sinkTokens; d *= 2)
        report.distances.push_back(d);
    for (int32_t layer = 0; layer < model.layers; ++layer) {
        if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "cancelled");
        if (progress) progress({"measuring locality per layer", layer, model.layers});
        const RotatedKeys keys(captured.keys(), layer, length, rope, pool);
        const auto threads = size_t(pool.threads());
        std::vector<std::vector<Moments>> perThread(threads,
                                                    std::vector<Moments>(report.distances.size()));
        std::vector<std::vector<float>> logits(threads), scratch(threads);
        // One task per (query, head).
        pool.parallelFor(int64_t(positions.size()) * params.heads, [&](int64_t task, int thread) {
            const size_t index = size_t(task / params.heads);
            const auto head = int32_t(task % params.heads);
            const int64_t position = positions[index];
            std::vector<float>& row = logits[size_t(thread)];
            denseLogits(captured.queries(layer, index, 1), position, head, keys, params, rope,
                        position + 1, row, scratch[size_t(thread)]);
            addDifferences(row.data(), options.sinkTokens, position, perThread[size_t(thread)]);
        });
        std::vector<double> sigma;
        for (size_t b = 0; b < report.distances.size(); ++b) {
            Moments total;
            for (const auto& moments : perThread)
                total.add(moments[b]);
            sigma.push_back(total.deviation());
        }
        report.sigma.push_back(std::move(sigma));
    }
    if (progress) progress({"measuring locality per layer", model.layers, model.layers});
    return report;
}

} // namespace hip::eval
