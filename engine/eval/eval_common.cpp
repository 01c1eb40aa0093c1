#include "eval/eval_common.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace hip {

EngineState& engineState(Engine& engine) {
    return *engine.state_;
}

} // namespace hip

namespace hip::eval {

const char* const kDefaultTextPath = "/usr/share/go-1.19/src/testdata/Isaac.Newton-Opticks.txt";

std::vector<int32_t> tokenize(const EngineState& state, const std::string& text) {
    return state.tokenizer->encode(text, {.addSpecial = false}).ids;
}

Result<std::vector<int32_t>> leadingTokens(const EngineState& state, const std::string& text,
                                           int64_t count) {
    std::vector<int32_t> tokens = tokenize(state, text);
    if (int64_t(tokens.size()) < count)
        return makeError(ErrorCode::InvalidArgument,
                         "the text has " + std::to_string(tokens.size()) + " tokens; " +
                             std::to_string(count) + " are needed (use a longer text)");
    tokens.resize(size_t(count));
    return tokens;
}

AttentionConfig alwaysPruning(AttentionConfig attention) {
    attention.denseBelowTokens = 0;
    return attention;
}

int64_t prefillQueryBlock(const AttentionConfig& config) {
    return config.mode == AttentionConfig::Mode::HipTree ? config.treeQueryBlock
                                                         : config.queryBlock;
}

attention::BlockMask hipMask(const attention::PruningContext& context,
                             const attention::QueryBlock& query) {
    const AttentionConfig& config = context.config;
    // The tree keeps its first layers dense: every candidate is attended there.
    if (config.mode == AttentionConfig::Mode::HipTree && context.layer < config.treeDenseLayers) {
        const int64_t end = attention::candidateEnd(config, query.lastPosition());
        return {{attention::mergeRanges({{config.sinkTokens, end}}, end)}};
    }
    std::vector<attention::ChunkList> stageInputs;
    return attention::estimateMask(context, query, stageInputs);
}

void softmax(float* row, int64_t keys) {
    const float peak = *std::max_element(row, row + keys);
    double total = 0;
    for (int64_t j = 0; j < keys; ++j) {
        row[j] = std::exp(row[j] - peak);
        total += row[j];
    }
    const float inverse = float(1.0 / total);
    for (int64_t j = 0; j < keys; ++j)
        row[j] *= inverse;
}

std::vector<int64_t> evenlySpread(int64_t first, int64_t last, int32_t count) {
    std::vector<int64_t> values;
    const int64_t span = last - first;
    for (int32_t i = count - 1; i >= 0; --i) {
        // i = 0 is `last`; the others step back towards `first`.
        const int64_t value = count > 1 ? last - span * i / (count - 1) : last;
        if (values.empty() || value != values.back()) values.push_back(value);
    }
    return values;
}

int evaluationThreads(const EngineState& state) {
    if (state.options.threads > 0) return state.options.threads;
    return std::max(1, int(std::thread::hardware_concurrency()));
}

} // namespace hip::eval
