#include "attention/block_sparse_attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace hip::attention {
namespace {

// Keys and values of one kv head gathered contiguously, keys rotated; `positions` are the true
// positions (for visibility tests and the attention mass).
struct GatheredKeys {
    std::vector<int64_t> positions;
    std::vector<float> keys;   // count x headDim
    std::vector<float> values; // count x headDim

    void add(const kv::PagedKvStore& store, int32_t layer, int32_t kvHead, int32_t headDim,
             const Rope& rope, int64_t position, int64_t ropePosition) {
        positions.push_back(position);
        const size_t offset = keys.size();
        keys.resize(offset + size_t(headDim));
        values.resize(offset + size_t(headDim));
        std::memcpy(keys.data() + offset, store.keys(layer, position) + kvHead * headDim,
                    sizeof(float) * size_t(headDim));
        std::memcpy(values.data() + offset, store.values(layer, position) + kvHead * headDim,
                    sizeof(float) * size_t(headDim));
        rope.rotate(keys.data() + offset, ropePosition);
    }
    int64_t count() const { return int64_t(positions.size()); }
};

// One of the three key sets (selected, sinks, window) seen by every row of a block: the rows'
// queries rotated for this set, their scores and which keys each row may see.
struct Pass {
    const GatheredKeys* keys = nullptr;
    std::vector<float> queries;      // rows x headDim
    std::vector<float> scores;       // rows x keys->count()
    std::vector<int64_t> begin, end; // per row: visible key index range

    void score(int64_t rows, int32_t headDim, float scale) {
        const int64_t n = keys->count();
        scores.resize(size_t(rows * n));
        if (n == 0) return;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(n), headDim, scale,
                    queries.data(), headDim, keys->keys.data(), headDim, 0.0f, scores.data(),
                    int(n));
    }
};

} // namespace

RowLayout rowLayout(const std::vector<int64_t>& selectedPositions, int64_t position,
                    const AttentionConfig& config) {
    RowLayout layout;
    const int64_t window = config.windowTokens;
    layout.windowStart = std::max<int64_t>(0, position - window + 1);
    layout.visibleSelected =
        std::lower_bound(selectedPositions.begin(), selectedPositions.end(), layout.windowStart) -
        selectedPositions.begin();
    layout.visibleSinks = std::min<int64_t>({config.sinkTokens, position + 1, layout.windowStart});
    // Selected keys end right before the window, sinks right before the selected keys.
    layout.selectedDistance = window + layout.visibleSelected - 1;
    layout.sinkDistance = layout.selectedDistance + layout.visibleSinks;
    return layout;
}

int64_t sparseRopePositionsNeeded(const AttentionConfig& config, int64_t selectedTokens) {
    const int64_t block = std::max(config.queryBlock, config.treeQueryBlock);
    return config.windowTokens + std::max<int64_t>(selectedTokens + config.sinkTokens, block) + 1;
}

void blockSparseAttention(const kv::PagedKvStore& store, int32_t layer, const QueryBlock& query,
                          const BlockMask& mask, int32_t kvHead,
                          const backend::AttentionParams& params, const AttentionConfig& config,
                          const Rope& rope, backend::Act out, float* mass) {
    const int32_t d = params.headDim;
    const int32_t group = params.heads / params.kvHeads;
    const int64_t rows = query.rows.rows;
    const int64_t first = query.firstPosition, last = query.lastPosition();

    // Sinks at their own index, window keys relative to the first position any row's window
    // reaches; both are shared by every head of the group.
    GatheredKeys sinks, windowKeys, selected;
    const int64_t sinkCount = std::min<int64_t>(config.sinkTokens, last + 1);
    for (int64_t t = 0; t < sinkCount; ++t)
        sinks.add(store, layer, kvHead, d, rope, t, t);
    const int64_t windowBase = std::max<int64_t>(0, first - config.windowTokens + 1);
    for (int64_t p = windowBase; p <= last; ++p)
        windowKeys.add(store, layer, kvHead, d, rope, p, p - windowBase);

    Pass passes[3];
    passes[0].keys = &selected;
    passes[1].keys = &sinks;
    passes[2].keys = &windowKeys;
    for (Pass& pass : passes) {
        pass.queries.resize(size_t(rows * d));
        pass.begin.resize(size_t(rows));
        pass.end.resize(size_t(rows));
    }
    std::vector<float> weights;
    for (int32_t g = 0; g < group; ++g) {
        const int32_t head = kvHead * group + g;
        // The selected keys, each rotated at its index in the mask's position order.
        if (g == 0 || mask.heads.size() > 1) {
            selected = {};
            for (const KeyRange& r : mask.forHead(head))
                for (int64_t p = r.begin; p < r.end; ++p)
                    selected.add(store, layer, kvHead, d, rope, p, selected.count());
        }
        // Keys are rotated at their index (selected, sinks) or at position - windowBase
        // (window); rotating each row's query at its layout's distances gives every key its
        // packed distance.
        for (int64_t row = 0; row < rows; ++row) {
            const int64_t position = first + row;
            const RowLayout layout = rowLayout(selected.positions, position, config);
            const int64_t queryRope[3] = {layout.selectedDistance, layout.sinkDistance,
                                          position - windowBase};
            passes[0].end[size_t(row)] = layout.visibleSelected;
            passes[1].end[size_t(row)] = layout.visibleSinks;
            passes[2].begin[size_t(row)] = layout.windowStart - windowBase;
            passes[2].end[size_t(row)] = position - windowBase + 1;
            for (int i = 0; i < 3; ++i) {
                if (i < 2) passes[i].begin[size_t(row)] = 0;
                float* q = passes[i].queries.data() + row * d;
                std::memcpy(q, query.rows.row(row) + int64_t(head) * d, sizeof(float) * size_t(d));
                rope.rotate(q, queryRope[i]);
            }
        }
        for (Pass& pass : passes)
            pass.score(rows, d, params.scale);

        for (int64_t row = 0; row < rows; ++row) {
            float maxScore = -std::numeric_limits<float>::infinity();
            for (const Pass& pass : passes) {
                const float* s = pass.scores.data() + row * pass.keys->count();
                for (int64_t i = pass.begin[size_t(row)]; i < pass.end[size_t(row)]; ++i)
                    maxScore = std::max(maxScore, s[i]);
            }
            double total = 0.0;
            for (Pass& pass : passes) {
                float* s = pass.scores.data() + row * pass.keys->count();
                for (int64_t i = 0; i < pass.keys->count(); ++i) {
                    const bool visible = i >= pass.begin[size_t(row)] && i < pass.end[size_t(row)];
                    s[i] = visible ? std::exp(s[i] - maxScore) : 0.0f;
                    total += s[i];
                }
            }
            const float inverse = float(1.0 / total);
            for (Pass& pass : passes) {
                float* s = pass.scores.data() + row * pass.keys->count();
                for (int64_t i = pass.begin[size_t(row)]; i < pass.end[size_t(row)]; ++i) {
                    s[i] *= inverse;
                    if (mass) mass[pass.keys->positions[size_t(i)]] += s[i] / float(params.heads);
                }
            }
        }
        // out rows of this head = sum over passes of probabilities x values.
        float* o = out.row(0) + int64_t(head) * d;
        for (int i = 0; i < 3; ++i) {
            const Pass& pass = passes[i];
            const int64_t n = pass.keys->count();
            if (n == 0) {
                if (i == 0)
                    for (int64_t row = 0; row < rows; ++row)
                        std::fill(o + row * out.stride, o + row * out.stride + d, 0.0f);
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), d, int(n), 1.0f,
                        pass.scores.data(), int(n), pass.keys->values.data(), d,
                        i == 0 ? 0.0f : 1.0f, o, int(out.stride));
        }
    }
}

} // namespace hip::attention
