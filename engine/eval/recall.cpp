// Recall of the dense attention mass: for sampled query blocks near the end of a context, how
// much of each query's exact attention probability falls on the keys HiP's real pruning code
// selects, against an oracle, StreamingLLM and random blocks attending as many keys.

#include "attention/hip_mask.h"
#include "eval/attention_capture.h"
#include "eval/dense_logits.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

namespace hip::eval {
namespace {

using attention::BlockMask;
using attention::ChunkList;

// One sampled query block: its rows are captured queries [firstIndex, firstIndex + rows).
struct SampleBlock {
    int64_t firstPosition = 0;
    int64_t rows = 0;
    size_t firstIndex = 0;
};

// Sums over the (row, head) pairs of one layer.
struct Totals {
    RecallShares shares;
    double attended = 0;
    double visible = 0;
    int64_t count = 0;

    void add(const Totals& other) {
        shares.hip += other.shares.hip;
        shares.oracle += other.shares.oracle;
        shares.streaming += other.shares.streaming;
        shares.random += other.shares.random;
        attended += other.attended;
        visible += other.visible;
        count += other.count;
    }
    LayerRecall mean(int32_t layer) const {
        const double n = double(std::max<int64_t>(count, 1));
        return {layer,
                {shares.hip / n, shares.oracle / n, shares.streaming / n, shares.random / n},
                attended / n,
                visible / n};
    }
};

int64_t tokensIn(const ChunkList& ranges) {
    int64_t total = 0;
    for (const KeyRange& r : ranges)
        total += r.end - r.begin;
    return total;
}

// Key blocks of `blockSize` on the grid from `begin`, drawn uniformly without replacement from
// those before `end` until they hold at least `tokens` keys: a baseline that ignores the query.
ChunkList randomBlocks(int64_t begin, int64_t end, int64_t blockSize, int64_t tokens,
                       std::mt19937_64& random) {
    const int64_t blocks = std::max<int64_t>(0, (end - begin + blockSize - 1) / blockSize);
    std::vector<int64_t> order(static_cast<size_t>(blocks));
    std::iota(order.begin(), order.end(), int64_t(0));
    ChunkList chosen;
    int64_t held = 0;
    for (int64_t i = 0; i < blocks && held < tokens; ++i) {
        std::uniform_int_distribution<int64_t> pick(i, blocks - 1);
        std::swap(order[size_t(i)], order[size_t(pick(random))]);
        const int64_t first = begin + order[size_t(i)] * blockSize;
        chosen.push_back({first, std::min(first + blockSize, end)});
        held += chosen.back().end - chosen.back().begin;
    }
    return attention::mergeRanges(std::move(chosen), end);
}

// Probability on the keys of `ranges` before `limit`; adds how many there are to `keys`.
double massBefore(const ChunkList& ranges, const float* probabilities, int64_t limit,
                  int64_t& keys) {
    double mass = 0;
    for (const KeyRange& r : ranges)
        for (int64_t p = r.begin; p < std::min(r.end, limit); ++p, ++keys)
            mass += probabilities[p];
    return mass;
}

// The sum of the `count` largest values of [begin, end); reorders them.
double largestSum(float* begin, float* end, int64_t count) {
    count = std::min<int64_t>(count, end - begin);
    if (count <= 0) return 0;
    std::nth_element(begin, begin + (count - 1), end, std::greater<float>());
    return std::accumulate(begin, begin + count, 0.0);
}

struct Scratch {
    std::vector<float> logits, queries, candidates;
};

struct LayerJob {
    CapturedAttention& capture;
    const RotatedKeys& keys;
    const attention::PruningContext& context;
    int64_t blockSize; // key block of the final mask, the random baseline's unit
    uint64_t seed;
};

Totals measureBlock(const LayerJob& job, const SampleBlock& sample, size_t sampleIndex,
                    Scratch& scratch) {
    const AttentionConfig& config = job.context.config;
    const backend::AttentionParams& params = job.context.params;
    const int32_t layer = job.context.layer;
    const attention::QueryBlock query{job.capture.queries(layer, sample.firstIndex, sample.rows),
                                      sample.firstPosition};
    const BlockMask mask = hipMask(job.context, query);

    std::seed_seq seed{job.seed, uint64_t(layer), uint64_t(sampleIndex)};
    std::mt19937_64 random(seed);
    const int64_t candidateEnd = attention::candidateEnd(config, query.lastPosition());
    BlockMask randomMask;
    for (const ChunkList& ranges : mask.heads)
        randomMask.heads.push_back(
            randomBlocks(config.sinkTokens, candidateEnd, job.blockSize, tokensIn(ranges), random));

    const int64_t keyCount = query.lastPosition() + 1;
    Totals totals;
    for (int32_t head = 0; head < params.heads; ++head) {
        denseLogits(query.rows, query.firstPosition, head, job.keys, params, job.context.rope,
                    keyCount, scratch.logits, scratch.queries);
        for (int64_t r = 0; r < query.rows.rows; ++r) {
            const int64_t position = query.firstPosition + r;
            float* p = scratch.logits.data() + r * keyCount;
            softmax(p, position + 1);

            const int64_t windowStart = std::max<int64_t>(0, position - config.windowTokens + 1);
            const int64_t sinks = std::min<int64_t>(config.sinkTokens, windowStart);
            const double always = std::accumulate(p, p + sinks, 0.0) +
                                  std::accumulate(p + windowStart, p + position + 1, 0.0);
            int64_t selected = 0, randomKeys = 0;
            const double hip = massBefore(mask.forHead(head), p, windowStart, selected);
            const double randomMass =
                massBefore(randomMask.forHead(head), p, windowStart, randomKeys);
            scratch.candidates.assign(p + sinks, p + windowStart);
            const double oracle =
                largestSum(scratch.candidates.data(),
                           scratch.candidates.data() + scratch.candidates.size(), selected);

            totals.shares.hip += always + hip;
            totals.shares.oracle += always + oracle;
            totals.shares.streaming += always;
            totals.shares.random += always + randomMass;
            totals.attended += double(sinks + (position + 1 - windowStart) + selected);
            totals.visible += double(position + 1);
            ++totals.count;
        }
    }
    return totals;
}

} // namespace

LayerRecall RecallReport::mean() const {
    Totals totals;
    for (const LayerRecall& l : layers)
        totals.add({l.shares, l.attendedKeys, l.visibleKeys, 1});
    return totals.mean(-1);
}

Result<RecallReport> measureRecall(Engine& engine, const RecallOptions& options,
                                   const ProgressCallback& progress, const CancelToken& cancel) {
    const AttentionConfig& config = options.attention;
    if (config.mode == AttentionConfig::Mode::Dense)
        return makeError(ErrorCode::InvalidArgument, "recall measures a HiP configuration, not "
                                                     "dense attention");
    HIP_TRY(config.validate());
    const bool tree = config.mode == AttentionConfig::Mode::HipTree;
    const int64_t block = prefillQueryBlock(config);
    const int64_t length = options.contextTokens;
    if (options.samples < 1 || length < block)
        return makeError(ErrorCode::InvalidArgument,
                         "recall needs at least one sample and a context of at least one query "
                         "block (" +
                             std::to_string(block) + " tokens)");
    EngineState& state = engineState(engine);
    auto tokens = leadingTokens(state, options.text, length);
    HIP_TRY(tokens);

    // Query blocks on prefill's grid, spread over the last quarter of the context.
    std::vector<SampleBlock> samples;
    std::vector<int64_t> positions;
    for (int64_t b : evenlySpread(length * 3 / 4 / block, (length - 1) / block, options.samples)) {
        const SampleBlock sample{b * block, std::min(block, length - b * block), positions.size()};
        for (int64_t r = 0; r < sample.rows; ++r)
            positions.push_back(sample.firstPosition + r);
        samples.push_back(sample);
    }
    auto capture = captureAttention(engine, *tokens, std::move(positions), progress, cancel);
    HIP_TRY(capture);

    const model::ModelConfig& model = state.transformer->config();
    backend::AttentionParams params = model.attentionParams();
    params.config = &config;
    attention::Rope rope(params.rope);
    rope.prepare(std::max(length, attention::ropePositionsNeeded(config, length)));
    ThreadPool pool(evaluationThreads(state));
    const int64_t blockSize = tree ? config.treeKeyBlock : config.stages.back().chunkSize;

    RecallReport report;
    report.contextTokens = length;
    report.samples = int32_t(samples.size());
    report.rowsPerSample = int32_t(block);
    for (int32_t layer = 0; layer < model.layers; ++layer) {
        if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "cancelled");
        if (progress) progress({"measuring recall per layer", layer, model.layers});
        const RotatedKeys keys((*capture)->keys(), layer, length, rope, pool);
        const attention::PruningContext context{(*capture)->keys(), layer, params, config, rope};
        const LayerJob job{**capture, keys, context, blockSize, options.seed};
        std::vector<Totals> perThread(size_t(pool.threads()));
        std::vector<Scratch> scratch(size_t(pool.threads()));
        pool.parallelFor(int64_t(samples.size()), [&](int64_t i, int thread) {
            perThread[size_t(thread)].add(
                measureBlock(job, samples[size_t(i)], size_t(i), scratch[size_t(thread)]));
        });
        Totals totals;
        for (const Totals& t : perThread)
            totals.add(t);
        report.layers.push_back(totals.mean(layer));
    }
    if (progress) progress({"measuring recall per layer", model.layers, model.layers});
    return report;
}

} // namespace hip::eval
