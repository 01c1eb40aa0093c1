#include "attention/hip_attention.h"

#include <algorithm>

namespace hip::attention {
namespace {

void sparseForAllHeads(const kv::PagedKvStore& store, int32_t layer, const QueryBlock& query,
                       const BlockMask& mask, const backend::AttentionParams& params,
                       const AttentionConfig& config, const Rope& rope, backend::Act out) {
    for (int32_t kvHead = 0; kvHead < params.kvHeads; ++kvHead)
        blockSparseAttention(store, layer, query, mask, kvHead, params, config, rope, out);
}

} // namespace

int64_t hipRopePositionsNeeded(const AttentionConfig& config, int32_t layer,
                               int64_t contextTokens) {
    return std::max(ropePositionsNeeded(config, contextTokens),
                    sparseRopePositionsNeeded(config, config.finalTokens(layer)));
}

size_t firstStageToRefresh(const AttentionConfig& config, int64_t step) {
    for (size_t s = 0; s < config.stages.size(); ++s)
        if (step % config.stages[s].refreshInterval == 0) return s;
    return config.stages.size();
}

void hipAttention(const kv::PagedKvStore& store, int32_t layer, int64_t start, backend::Act q,
                  const backend::AttentionParams& params, const AttentionConfig& config,
                  const Rope& rope, backend::Act out, ThreadPool& pool, HipLayerState& state,
                  float* mass) {
    const PruningContext context{store, layer, params, config, rope};
    const bool tree = config.mode == AttentionConfig::Mode::HipTree;

    if (q.rows > 1) {
        const int64_t block = tree ? config.treeQueryBlock : config.queryBlock;
        const int64_t blocks = (q.rows + block - 1) / block;
        pool.parallelFor(blocks, [&](int64_t b, int) {
            const int64_t firstRow = b * block, rows = std::min(block, q.rows - firstRow);
            const QueryBlock query{q.rowRange(firstRow, rows), start + firstRow};
            std::vector<ChunkList> stageInputs;
            const BlockMask mask = estimateMask(context, query, stageInputs);
            sparseForAllHeads(store, layer, query, mask, params, config, rope,
                              out.rowRange(firstRow, rows));
        });
        state = HipLayerState{};
        return;
    }

    const QueryBlock query{q, start};
    // Attention settings can change between tokens: a cache made for others starts over.
    if (state.valid && !(state.builtFor == config)) state = HipLayerState{};
    const int64_t step = state.decodeStep++;
    if (tree) {
        const bool refresh = !state.valid || step % config.treeRefreshInterval == 0;
        if (refresh) state.mask = treeMask(context, query);
        state.refreshedStages = refresh ? 1 : 0;
    } else {
        const size_t stageCount = config.stages.size();
        const size_t first = state.valid ? firstStageToRefresh(config, step) : 0;
        if (first < stageCount) {
            const int64_t end = candidateEnd(config, query.lastPosition());
            ChunkList input = first == 0 ? initialChunks(config, end) : state.stageInputs[first];
            ChunkList selected =
                runStages(context, first, std::move(input), query, state.stageInputs);
            state.mask = {{mergeRanges(std::move(selected), end)}};
        }
        state.refreshedStages = int32_t(stageCount - first);
    }
    if (!state.valid) state.builtFor = config;
    state.valid = true;
    // Heads run in parallel, so each kv head adds its mass to a buffer of its own.
    const size_t keys = size_t(start + 1);
    std::vector<std::vector<float>> headMass(mass ? size_t(params.kvHeads) : 0,
                                             std::vector<float>(keys, 0.0f));
    pool.parallelFor(params.kvHeads, [&](int64_t kvHead, int) {
        blockSparseAttention(store, layer, query, state.mask, int32_t(kvHead), params, config, rope,
                             out, mass ? headMass[size_t(kvHead)].data() : nullptr);
    });
    for (const std::vector<float>& partial : headMass)
        for (size_t p = 0; p < keys; ++p)
            mass[p] += partial[p];
}

} // namespace hip::attention
