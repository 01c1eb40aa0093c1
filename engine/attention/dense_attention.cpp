#include "attention/dense_attention.h"

#include <cblas.h>

#include <algorithm>
#include <array>
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

namespace {

// The scores of the query rows of one KV head's group against one page of keys, for the exact
// mass: rows ordered (head in the group, query row), kKeyTile columns, keys a row may not see
// (after its position) at -infinity. Keys more than `farDistance` before a row (when it is
// positive) are scored at that distance: the query rotated by it against the unrotated key.
class GroupPageScores {
public:
    GroupPageScores(const kv::PagedKvStore& store, int32_t layer, int64_t start, backend::Act q,
                    const backend::AttentionParams& params, const Rope& rope, int64_t farDistance)
        : store_(store), layer_(layer), start_(start), rows_(q.rows), params_(params), rope_(rope),
          farDistance_(farDistance),
          queries_(rotatedQueries(q, [&](int64_t r) { return start + r; })) {
        if (farDistance > 0) farQueries_ = rotatedQueries(q, [&](int64_t) { return farDistance; });
    }

    int64_t groupRows() const { return rows_ * (params_.heads / params_.kvHeads); }

    // Scores into `scratch` (resized as needed); returns them and the page's key count.
    std::pair<const float*, int64_t> score(int32_t kvHead, int64_t page,
                                           std::vector<float>& scratch) const {
        const int32_t d = params_.headDim;
        const int64_t keyStart = page * kKeyTile, last = start_ + rows_ - 1;
        const int64_t keyCount = std::min(kKeyTile, last + 1 - keyStart);
        const int64_t tile = groupRows() * kKeyTile;
        scratch.resize(size_t(kKeyTile * d + 2 * tile));
        float* keys = scratch.data();
        float* scores = keys + kKeyTile * d;
        float* farScores = scores + tile;
        for (int64_t j = 0; j < keyCount; ++j)
            std::memcpy(keys + j * d, store_.keys(layer_, keyStart + j) + kvHead * d,
                        sizeof(float) * size_t(d));
        const bool anyFar = farDistance_ > 0 && keyStart < last - farDistance_;
        const bool anyNear = farDistance_ <= 0 || keyStart + keyCount > start_ - farDistance_;
        if (anyFar) multiply(farQueries_, kvHead, keys, keyCount, farScores);
        if (anyNear) {
            for (int64_t j = 0; j < keyCount; ++j)
                rope_.rotate(keys + j * d, keyStart + j);
            multiply(queries_, kvHead, keys, keyCount, scores);
        }
        for (int64_t row = 0; row < groupRows(); ++row) {
            const int64_t position = start_ + row % rows_;
            float* s = scores + row * kKeyTile;
            for (int64_t j = 0; j < keyCount; ++j) {
                const int64_t distance = position - (keyStart + j);
                if (distance < 0)
                    s[j] = -std::numeric_limits<float>::infinity();
                else if (anyFar && distance > farDistance_)
                    s[j] = farScores[row * kKeyTile + j];
            }
        }
        return {scores, keyCount};
    }

private:
    // Every head of every row rotated at position(row) and scaled, [head][row][d].
    template <class Position>
    std::vector<float> rotatedQueries(backend::Act q, const Position& position) const {
        const int32_t d = params_.headDim;
        std::vector<float> rotated(size_t(int64_t(params_.heads) * rows_ * d));
        for (int32_t head = 0; head < params_.heads; ++head)
            for (int64_t r = 0; r < rows_; ++r) {
                float* dst = rotated.data() + (head * rows_ + r) * d;
                std::memcpy(dst, q.row(r) + head * d, sizeof(float) * size_t(d));
                rope_.rotate(dst, position(r));
                for (int32_t i = 0; i < d; ++i)
                    dst[i] *= params_.scale;
            }
        return rotated;
    }

    // scores = the group's queries (groupRows x d) * keys^T (d x keyCount).
    void multiply(const std::vector<float>& queries, int32_t kvHead, const float* keys,
                  int64_t keyCount, float* scores) const {
        const int32_t d = params_.headDim;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(groupRows()), int(keyCount), d,
                    1.0f, queries.data() + kvHead * groupRows() * d, d, keys, d, 0.0f, scores,
                    int(kKeyTile));
    }

    const kv::PagedKvStore& store_;
    int32_t layer_;
    int64_t start_;
    int64_t rows_;
    const backend::AttentionParams& params_;
    const Rope& rope_;
    int64_t farDistance_;
    std::vector<float> queries_;    // at their positions
    std::vector<float> farQueries_; // at farDistance (when positive)
};

} // namespace

int64_t exactMassFarDistance(const backend::AttentionParams& params, int32_t layer, int64_t end,
                             bool decode) {
    return params.runsDense(layer, end, decode) ? 0 : params.config->windowTokens;
}

// Two passes over the key pages: the first finds each (head, row)'s log-sum-exp from per-page
// maxima and sums, the second scores again and adds exp(score - logSumExp). Scoring twice keeps
// memory at one page per thread at any context length; each page's mass is written by one task.
void accumulateExactMass(const kv::PagedKvStore& store, int32_t layer, int64_t start,
                         backend::Act q, const backend::AttentionParams& params, const Rope& rope,
                         int64_t farDistance, float* mass, ThreadPool& pool) {
    const int64_t rows = q.rows;
    const int64_t headRows = int64_t(params.heads) * rows;
    const int64_t pages = (start + rows + kKeyTile - 1) / kKeyTile;
    const GroupPageScores scorer(store, layer, start, q, params, rope, farDistance);
    const int64_t groupRows = scorer.groupRows();
    std::vector<std::vector<float>> scratch(size_t(pool.threads()));

    // Pass 1: per page and (head, row), the largest score and the sum of exp(score - largest).
    std::vector<float> pageMax(size_t(pages * headRows)), pageSum(size_t(pages * headRows));
    pool.parallelFor(pages * params.kvHeads, [&](int64_t task, int thread) {
        const int32_t kvHead = int32_t(task % params.kvHeads);
        const int64_t page = task / params.kvHeads;
        const auto [scores, keyCount] = scorer.score(kvHead, page, scratch[size_t(thread)]);
        for (int64_t row = 0; row < groupRows; ++row) {
            const float* s = scores + row * kKeyTile;
            const float largest = *std::max_element(s, s + keyCount);
            double sum = 0.0;
            if (largest > -std::numeric_limits<float>::infinity())
                for (int64_t j = 0; j < keyCount; ++j)
                    sum += std::exp(s[j] - largest);
            const size_t at = size_t(page * headRows + kvHead * groupRows + row);
            pageMax[at] = largest;
            pageSum[at] = float(sum);
        }
    });
    std::vector<float> logSumExp(static_cast<size_t>(headRows));
    for (int64_t hr = 0; hr < headRows; ++hr) {
        float largest = -std::numeric_limits<float>::infinity();
        for (int64_t page = 0; page < pages; ++page)
            largest = std::max(largest, pageMax[size_t(page * headRows + hr)]);
        double sum = 0.0;
        for (int64_t page = 0; page < pages; ++page) {
            const size_t at = size_t(page * headRows + hr);
            if (pageSum[at] > 0)
                sum += double(pageSum[at]) * std::exp(double(pageMax[at] - largest));
        }
        logSumExp[size_t(hr)] = largest + float(std::log(sum));
    }

    // Pass 2: each page's keys get their probabilities, summed over rows, averaged over heads.
    pool.parallelFor(pages, [&](int64_t page, int thread) {
        float* target = mass + page * kKeyTile;
        for (int32_t kvHead = 0; kvHead < params.kvHeads; ++kvHead) {
            const auto [scores, keyCount] = scorer.score(kvHead, page, scratch[size_t(thread)]);
            std::array<float, kKeyTile> total{};
            for (int64_t row = 0; row < groupRows; ++row) {
                const float* s = scores + row * kKeyTile;
                const float shift = logSumExp[size_t(kvHead * groupRows + row)];
                for (int64_t j = 0; j < keyCount; ++j)
                    total[size_t(j)] += std::exp(s[j] - shift);
            }
            for (int64_t j = 0; j < keyCount; ++j)
                target[j] += total[size_t(j)] / float(params.heads);
        }
    });
}

} // namespace hip::attention
