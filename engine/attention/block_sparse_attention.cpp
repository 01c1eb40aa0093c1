#include "attention/block_sparse_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hip::attention {
namespace {

// Keys of one kv head gathered into a contiguous, rotated copy; `positions` are the true
// positions (for the values and for visibility tests).
struct RotatedKeys {
    std::vector<int64_t> positions;
    std::vector<float> keys;

    void gather(const kv::PagedKvStore& store, int32_t layer, int32_t kvHead, int32_t headDim,
                const Rope& rope, int64_t position, int64_t ropePosition) {
        positions.push_back(position);
        const size_t offset = keys.size();
        keys.resize(offset + size_t(headDim));
        std::memcpy(keys.data() + offset, store.keys(layer, position) + kvHead * headDim,
                    sizeof(float) * size_t(headDim));
        rope.rotate(keys.data() + offset, ropePosition);
    }
    const float* key(size_t i, int32_t headDim) const { return keys.data() + i * size_t(headDim); }
};

float dot(const float* a, const float* b, int32_t n) {
    float sum = 0.0f;
    for (int32_t i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

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
    const int64_t window = config.windowTokens;
    const int64_t first = query.firstPosition, last = query.lastPosition();

    // Sinks at their own index, window keys relative to the first position any row's window
    // reaches; both are shared by every head of the group.
    RotatedKeys sinks, windowKeys;
    const int64_t sinkCount = std::min<int64_t>(config.sinkTokens, last + 1);
    for (int64_t t = 0; t < sinkCount; ++t)
        sinks.gather(store, layer, kvHead, d, rope, t, t);
    const int64_t windowBase = std::max<int64_t>(0, first - window + 1);
    for (int64_t p = windowBase; p <= last; ++p)
        windowKeys.gather(store, layer, kvHead, d, rope, p, p - windowBase);

    RotatedKeys selected;
    std::vector<float> queryRotated(static_cast<size_t>(d)), scores, weights;
    for (int32_t g = 0; g < group; ++g) {
        const int32_t head = kvHead * group + g;
        // The selected keys, each rotated at its index in the mask's position order.
        if (g == 0 || mask.heads.size() > 1) {
            selected = {};
            for (const KeyRange& r : mask.forHead(head))
                for (int64_t p = r.begin; p < r.end; ++p)
                    selected.gather(store, layer, kvHead, d, rope, p,
                                    int64_t(selected.positions.size()));
        }
        for (int64_t row = 0; row < query.rows.rows; ++row) {
            const int64_t position = first + row;
            const float* q = query.rows.row(row) + int64_t(head) * d;
            const RowLayout layout = rowLayout(selected.positions, position, config);

            scores.clear();
            auto scorePass = [&](const RotatedKeys& keys, int64_t begin, int64_t end,
                                 int64_t queryRope) {
                std::memcpy(queryRotated.data(), q, sizeof(float) * size_t(d));
                rope.rotate(queryRotated.data(), queryRope);
                for (int64_t i = begin; i < end; ++i)
                    scores.push_back(dot(queryRotated.data(), keys.key(size_t(i), d), d) *
                                     params.scale);
            };
            // Keys are rotated at their index (selected, sinks) or at position - windowBase
            // (window); rotating the query at the layout's distances gives each key its
            // packed distance.
            scorePass(selected, 0, layout.visibleSelected, layout.selectedDistance);
            scorePass(sinks, 0, layout.visibleSinks, layout.sinkDistance);
            scorePass(windowKeys, layout.windowStart - windowBase, position - windowBase + 1,
                      position - windowBase);

            const float maxScore = *std::max_element(scores.begin(), scores.end());
            weights.resize(scores.size());
            double total = 0.0;
            for (size_t i = 0; i < scores.size(); ++i) {
                weights[i] = std::exp(scores[i] - maxScore);
                total += weights[i];
            }
            float* o = out.row(row) + int64_t(head) * d;
            std::fill(o, o + d, 0.0f);
            size_t index = 0;
            auto accumulate = [&](const RotatedKeys& keys, int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i, ++index) {
                    const float w = float(weights[index] / total);
                    const int64_t keyPosition = keys.positions[size_t(i)];
                    const float* v = store.values(layer, keyPosition) + int64_t(kvHead) * d;
                    for (int32_t c = 0; c < d; ++c)
                        o[c] += w * v[c];
                    if (mass) mass[keyPosition] += w / float(params.heads);
                }
            };
            accumulate(selected, 0, layout.visibleSelected);
            accumulate(sinks, 0, layout.visibleSinks);
            accumulate(windowKeys, layout.windowStart - windowBase, position - windowBase + 1);
        }
    }
}

} // namespace hip::attention
