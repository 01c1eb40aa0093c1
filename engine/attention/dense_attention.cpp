#include "attention/dense_attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace hip::attention {
namespace {

constexpr int64_t kQueryTile = 64;
constexpr int64_t kKeyTile = kv::PagedKvStore::kPageTokens; // one page: values need no copy

// Running softmax state of one tile of query rows of one head group.
struct TileState {
    int64_t rows = 0; // group heads x query rows, ordered (head, row)
    int32_t headDim = 0;
    std::vector<float> queries; // rows x headDim, rotated and scaled
    std::vector<float> maxScore;
    std::vector<float> sum;
    std::vector<float> acc;    // rows x headDim
    std::vector<float> keys;   // key tile, rotated: kKeyTile x headDim
    std::vector<float> scores; // rows x kKeyTile

    void reset(int64_t rowCount, int32_t dim) {
        rows = rowCount;
        headDim = dim;
        queries.assign(size_t(rows * dim), 0.0f);
        maxScore.assign(size_t(rows), -std::numeric_limits<float>::infinity());
        sum.assign(size_t(rows), 0.0f);
        acc.assign(size_t(rows * dim), 0.0f);
        keys.resize(size_t(kKeyTile * dim));
        scores.resize(size_t(rows * kKeyTile));
    }
};

} // namespace

void denseAttention(const kv::PagedKvStore& store, int32_t layer, int64_t start, backend::Act q,
                    const backend::AttentionParams& params, const Rope& rope, backend::Act out,
                    ThreadPool& pool) {
    const int32_t d = params.headDim;
    const int32_t group = params.heads / params.kvHeads;
    const int64_t queryTiles = (q.rows + kQueryTile - 1) / kQueryTile;
    const int64_t rowFloats = store.rowFloats();

    pool.parallelFor(params.kvHeads * queryTiles, [&](int64_t task, int) {
        const int32_t kvHead = int32_t(task % params.kvHeads);
        const int64_t firstRow = (task / params.kvHeads) * kQueryTile;
        const int64_t tileRows = std::min(kQueryTile, q.rows - firstRow);
        TileState state;
        state.reset(group * tileRows, d);

        for (int32_t g = 0; g < group; ++g) {
            const int32_t head = kvHead * group + g;
            for (int64_t r = 0; r < tileRows; ++r) {
                float* dst = state.queries.data() + (g * tileRows + r) * d;
                std::memcpy(dst, q.row(firstRow + r) + head * d, sizeof(float) * size_t(d));
                rope.rotate(dst, start + firstRow + r);
                for (int32_t i = 0; i < d; ++i)
                    dst[i] *= params.scale;
            }
        }

        const int64_t firstPosition = start + firstRow;
        const int64_t keyEnd = firstPosition + tileRows; // exclusive: last row sees all before it
        for (int64_t keyStart = 0; keyStart < keyEnd; keyStart += kKeyTile) {
            const int64_t keyCount = std::min(kKeyTile, keyEnd - keyStart);
            for (int64_t j = 0; j < keyCount; ++j) {
                float* dst = state.keys.data() + j * d;
                std::memcpy(dst, store.keys(layer, keyStart + j) + kvHead * d,
                            sizeof(float) * size_t(d));
                rope.rotate(dst, keyStart + j);
            }
            // scores = queries (rows x d) * keys^T (d x keyCount)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(state.rows), int(keyCount), d,
                        1.0f, state.queries.data(), d, state.keys.data(), d, 0.0f,
                        state.scores.data(), int(kKeyTile));

            for (int64_t row = 0; row < state.rows; ++row) {
                const int64_t position = firstPosition + row % tileRows;
                const int64_t visible = std::min(keyCount, position - keyStart + 1);
                float* s = state.scores.data() + row * kKeyTile;
                if (visible <= 0) {
                    std::fill(s, s + keyCount, 0.0f);
                    continue;
                }
                float tileMax = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j < visible; ++j)
                    tileMax = std::max(tileMax, s[j]);
                const float newMax = std::max(state.maxScore[size_t(row)], tileMax);
                const float correction = std::exp(state.maxScore[size_t(row)] - newMax);
                float tileSum = 0.0f;
                for (int64_t j = 0; j < visible; ++j) {
                    s[j] = std::exp(s[j] - newMax);
                    tileSum += s[j];
                }
                std::fill(s + visible, s + keyCount, 0.0f);
                state.sum[size_t(row)] = state.sum[size_t(row)] * correction + tileSum;
                state.maxScore[size_t(row)] = newMax;
                float* a = state.acc.data() + row * d;
                for (int32_t i = 0; i < d; ++i)
                    a[i] *= correction;
            }
            // acc += probabilities (rows x keyCount) * values (keyCount x d, rows of the page)
            const float* values = store.values(layer, keyStart) + kvHead * d;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(state.rows), d,
                        int(keyCount), 1.0f, state.scores.data(), int(kKeyTile), values,
                        int(rowFloats), 1.0f, state.acc.data(), d);
        }

        for (int32_t g = 0; g < group; ++g) {
            const int32_t head = kvHead * group + g;
            for (int64_t r = 0; r < tileRows; ++r) {
                const int64_t row = g * tileRows + r;
                const float inverse = 1.0f / state.sum[size_t(row)];
                const float* a = state.acc.data() + row * d;
                float* dst = out.row(firstRow + r) + head * d;
                for (int32_t i = 0; i < d; ++i)
                    dst[i] = a[i] * inverse;
            }
        }
    });
}

void accumulateDenseMass(const kv::PagedKvStore& store, int32_t layer, int64_t position,
                         const float* q, const backend::AttentionParams& params, const Rope& rope,
                         float* mass) {
    const int32_t d = params.headDim;
    const int32_t group = params.heads / params.kvHeads;
    const int64_t keys = position + 1;
    std::vector<float> rotatedQuery(static_cast<size_t>(d)), key(static_cast<size_t>(d));
    std::vector<float> scores(static_cast<size_t>(keys));
    for (int32_t head = 0; head < params.heads; ++head) {
        std::memcpy(rotatedQuery.data(), q + head * d, sizeof(float) * size_t(d));
        rope.rotate(rotatedQuery.data(), position);
        const int32_t kvHead = head / group;
        float maxScore = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < keys; ++j) {
            std::memcpy(key.data(), store.keys(layer, j) + kvHead * d, sizeof(float) * size_t(d));
            rope.rotate(key.data(), j);
            scores[size_t(j)] = cblas_sdot(d, rotatedQuery.data(), 1, key.data(), 1) * params.scale;
            maxScore = std::max(maxScore, scores[size_t(j)]);
        }
        double total = 0.0;
        for (float& s : scores) {
            s = std::exp(s - maxScore);
            total += s;
        }
        const double weight = 1.0 / (total * params.heads);
        for (int64_t j = 0; j < keys; ++j)
            mass[j] += float(scores[size_t(j)] * weight);
    }
}

} // namespace hip::attention
