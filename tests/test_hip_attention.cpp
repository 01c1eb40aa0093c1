// HiP attention on the CPU (engine/attention), the reference every HiP kernel is measured against.
// Keys, values and queries come from fixed seeds and fill a real PagedKvStore; nothing of the code
// under test is mocked. The suite pins down: HiP equals exact attention when the budget covers
// every key; pruning finds planted high-score keys; the decode stage cache recomputes exactly what
// its refresh schedule says; the packed (StreamingLLM-style) rope layout; prefill and decode agree;
// the presets; and the trace a real model leaves when HiP is on.

#include "test_support.h"

#include "attention/block_sparse_attention.h"
#include "attention/dense_attention.h"
#include "attention/hip_attention.h"
#include "attention/hip_mask.h"
#include "attention/rope.h"
#include "backend/cpu/cpu_backend.h"
#include "common/thread_pool.h"
#include "kv/paged_kv_store.h"

#include <hip/attention_config.h>
#include <hip/engine.h>
#include <hip/session.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace attn = hip::attention;
namespace backend = hip::backend;
using attn::ChunkList;
using hip::AttentionConfig;
using hip::KeyRange;
using hip::PruningStage;
using Mode = AttentionConfig::Mode;

// HiP against exact attention over the same keys. The two rotate keys at different absolute
// positions (HiP at packed positions near 0, dense at the true ones), so float rope tables give
// differences of about 1e-6 relative; the measured worst case is 9.5e-7.
constexpr float kRopeTolerance = 1e-5f;

void requireOk(const hip::Status& status) {
    if (!status) qFatal("%s", status.message().c_str());
}

// Rope over the whole head, adjacent pairs (Llama "NORM" layout), base 10000.
backend::RopeParams ropeParams(int32_t headDim) {
    backend::RopeParams rope;
    rope.dims = headDim;
    rope.freqBase = 10000.0f;
    return rope;
}

struct Shape {
    int32_t heads;
    int32_t kvHeads;
    int32_t headDim;
};

// Rows of heads x headDim floats: query rows or attention outputs.
struct Matrix {
    Matrix(int64_t rowCount, int64_t colCount)
        : rows(rowCount), cols(colCount), values(size_t(rowCount * colCount), 0.0f) {}
    backend::Act act() { return {values.data(), rows, cols, cols}; }
    backend::Act rowRange(int64_t first, int64_t count) { return act().rowRange(first, count); }
    float* row(int64_t r) { return values.data() + r * cols; }
    const float* row(int64_t r) const { return values.data() + r * cols; }

    int64_t rows;
    int64_t cols;
    std::vector<float> values;
};

// Largest |a - b| over `count` rows starting at rowA in a and rowB in b.
float maxAbsDifference(const Matrix& a, int64_t rowA, const Matrix& b, int64_t rowB,
                       int64_t count) {
    float worst = 0.0f;
    for (int64_t r = 0; r < count; ++r)
        for (int64_t c = 0; c < a.cols; ++c)
            worst = std::max(worst, std::abs(a.row(rowA + r)[c] - b.row(rowB + r)[c]));
    return worst;
}

// A KV store of several layers with the matching attention parameters and rope, filled from a
// fixed seed.
class KvFixture {
public:
    static constexpr int64_t kCapacity = 8192;

    KvFixture(Shape shape, int32_t layers, uint32_t seed)
        : store(layers, shape.kvHeads, shape.headDim, kCapacity), rope(ropeParams(shape.headDim)),
          rng(seed) {
        params.heads = shape.heads;
        params.kvHeads = shape.kvHeads;
        params.headDim = shape.headDim;
        params.scale = 1.0f / std::sqrt(float(shape.headDim));
        params.rope = ropeParams(shape.headDim);
    }

    // Appends random keys and values at positions [tokens(), end) of every layer.
    void appendRandom(int64_t end) {
        requireOk(store.reserve(end));
        for (int32_t layer = 0; layer < store.layers(); ++layer)
            for (int64_t p = store.tokens(); p < end; ++p)
                for (int64_t i = 0; i < store.rowFloats(); ++i) {
                    store.keys(layer, p)[i] = normal();
                    store.values(layer, p)[i] = normal();
                }
        store.setTokens(end);
    }

    Matrix randomQueries(int64_t rows) {
        Matrix q(rows, int64_t(params.heads) * params.headDim);
        for (float& v : q.values)
            v = normal();
        return q;
    }

    float* key(int32_t layer, int64_t position, int32_t kvHead) {
        return store.keys(layer, position) + int64_t(kvHead) * params.headDim;
    }

    // Prepares the rope for dense attention and for HiP at a context of `end` tokens.
    void prepareRope(const AttentionConfig& config, int32_t layer, int64_t end) {
        rope.prepare(std::max(end, attn::hipRopePositionsNeeded(config, layer, end)));
    }

    attn::PruningContext context(int32_t layer, const AttentionConfig& config) const {
        return {store, layer, params, config, rope};
    }

    float normal() { return distribution(rng); }

    hip::kv::PagedKvStore store;
    backend::AttentionParams params;
    attn::Rope rope;
    std::mt19937 rng;
    std::normal_distribution<float> distribution{0.0f, 1.0f};
};

int64_t tokenCount(const ChunkList& ranges) {
    int64_t total = 0;
    for (const KeyRange& r : ranges)
        total += r.end - r.begin;
    return total;
}

bool covers(const ChunkList& ranges, int64_t position) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const KeyRange& r) { return r.begin <= position && position < r.end; });
}

std::string describe(const ChunkList& ranges) {
    std::ostringstream out;
    for (const KeyRange& r : ranges)
        out << '[' << r.begin << ',' << r.end << ')';
    return ranges.empty() ? "(none)" : out.str();
}

// Small sinks and window so that contexts of a few thousand tokens have many candidates. One
// first layer (layer 0 prunes with chunk-indexed rope, layer 1 with relative rope).
AttentionConfig smallConfig(Mode mode) {
    AttentionConfig config;
    config.name = "test";
    config.mode = mode;
    config.sinkTokens = 16;
    config.windowTokens = 64;
    config.queryBlock = 64;
    config.denseBelowTokens = 0;
    config.firstLayers = 1;
    config.treeQueryBlock = 32;
    config.treeKeyBlock = 2;
    config.treeRefreshInterval = 8;
    config.treeDenseLayers = 0;
    return config;
}

// Budgets of 2048 keys: at the lengths used with it (<= 1001) every stage keeps everything.
AttentionConfig coveringConfig(Mode mode) {
    AttentionConfig config = smallConfig(mode);
    config.stages = {{64, 2048, 4, 16}, {16, 2048, 4, 8}, {4, 2048, 1, 4}};
    config.firstLayersFinalTokens = 2048;
    config.treeTokens = 2048;
    requireOk(config.validate());
    return config;
}

// Budgets far below the candidates of a few thousand tokens: final 96 keys (112 in the first
// layer), 64 per head for the tree; stages 32/8/4 with the nested 16/8/4 refresh schedule.
AttentionConfig prunedConfig(Mode mode) {
    AttentionConfig config = smallConfig(mode);
    config.stages = {{32, 256, 4, 16}, {8, 128, 4, 8}, {4, 96, 1, 4}};
    config.firstLayersFinalTokens = 112;
    config.treeTokens = 64;
    requireOk(config.validate());
    return config;
}

// The multi-stage mask of `query` estimated from scratch, as hipAttention's prefill does it.
ChunkList stagesFromScratch(const attn::PruningContext& context, const attn::QueryBlock& query,
                            std::vector<ChunkList>& stageInputs) {
    const int64_t end = attn::candidateEnd(context.config, query.lastPosition());
    return attn::mergeRanges(
        attn::runStages(context, 0, attn::initialChunks(context.config, end), query, stageInputs),
        end);
}

// --- Planted peaks ----------------------------------------------------------------------------

// Three peaks far from the query end (4095), one straddling a first-stage chunk boundary (1904).
// Each is a plateau of 8 keys [center - 4, center + 4) at full strength with a halo that fades
// linearly over 96 keys on both sides. The halo gives the "attention locality" HiP relies on:
// SelectRep and the tree only look at a few representative keys per chunk and descend towards
// the better half, so an isolated spike between representatives is invisible by design.
constexpr int64_t kPeakCenters[] = {700, 1904, 3300};
constexpr int64_t kPlateauHalfWidth = 4;
constexpr double kHaloWidth = 96.0;
constexpr int64_t kPlantedTokens = 4096;
constexpr int32_t kPlantedKvHead = 1;
const Shape kPlantedShape{6, 2, 32}; // query heads 3..5 read kv head 1

float peakStrength(int64_t position) {
    double strength = 0.0;
    for (int64_t center : kPeakCenters) {
        const double distance = std::abs(double(position) + 0.5 - double(center));
        const double beyondPlateau = std::max(0.0, distance - double(kPlateauHalfWidth));
        strength = std::max(strength, 1.0 - beyondPlateau / kHaloWidth);
    }
    return float(strength);
}

// The direction planted keys and aligned queries share: the last two rotary pairs. Their
// frequencies (3e-4 and 2e-4 rad per position) are so low that rope at the distances pruning
// uses (< 300) leaves the score within 0.2% of the unrotated one, under relative and
// chunk-indexed rope alike, so content decides.
bool inPeakDirection(int32_t dim, int32_t headDim) {
    return dim >= headDim - 4;
}

// Every layer: random keys with little energy along the peak direction; kv head 1 gets
// 25 x strength along it. Scores of aligned queries (4 x direction): ~100 on a plateau, ~0.1
// noise elsewhere; the unaligned heads (random queries, kv head 0) reach ~20 at most.
void plantPeaks(KvFixture& f) {
    f.appendRandom(kPlantedTokens);
    const int32_t d = f.params.headDim;
    for (int32_t layer = 0; layer < f.store.layers(); ++layer)
        for (int64_t p = 0; p < kPlantedTokens; ++p)
            for (int32_t kvHead = 0; kvHead < f.params.kvHeads; ++kvHead) {
                float* k = f.key(layer, p, kvHead);
                const float strength = kvHead == kPlantedKvHead ? 25.0f * peakStrength(p) : 0.0f;
                for (int32_t i = 0; i < d; ++i)
                    if (inPeakDirection(i, d)) k[i] = 0.02f * f.normal() + strength * 0.5f;
            }
}

// Queries of the heads reading kv head 1 point along the peak direction; the others are random.
Matrix plantedQueries(KvFixture& f, int64_t rows) {
    const int32_t d = f.params.headDim;
    const int32_t group = f.params.heads / f.params.kvHeads;
    Matrix q = f.randomQueries(rows);
    for (int64_t r = 0; r < rows; ++r)
        for (int32_t h = kPlantedKvHead * group; h < (kPlantedKvHead + 1) * group; ++h)
            for (int32_t i = 0; i < d; ++i)
                q.row(r)[h * d + i] = 0.02f * f.normal() + (inPeakDirection(i, d) ? 2.0f : 0.0f);
    return q;
}

// Why a plateau position is missing, or empty when all are there.
std::string missingPlateau(const ChunkList& mask) {
    for (int64_t center : kPeakCenters)
        for (int64_t p = center - kPlateauHalfWidth; p < center + kPlateauHalfWidth; ++p)
            if (!covers(mask, p))
                return "planted key " + std::to_string(p) + " not selected; mask " + describe(mask);
    return {};
}

// --- Naive block-sparse reference ---------------------------------------------------------------

// The attention of one query row at `position` as block-sparse attention's header defines it,
// computed the slow way in double: the window keys at their true distance; before the window the
// visible selected keys (those before the window, in position order) packed contiguously, the
// latest at distance `window`; before them the visible sinks (sinks before the window). A score
// at distance D is (q rotated by D) . (key unrotated), which is what any pair of absolute
// positions D apart gives.
void naivePackedAttention(const KvFixture& f, int32_t layer, const float* q, int32_t head,
                          int64_t position, const ChunkList& selected,
                          const AttentionConfig& config, float* out) {
    const int32_t d = f.params.headDim;
    const int32_t kvHead = head / (f.params.heads / f.params.kvHeads);
    const int64_t window = config.windowTokens;
    const int64_t windowStart = std::max<int64_t>(0, position - window + 1);
    std::vector<int64_t> visible;
    for (const KeyRange& r : selected)
        for (int64_t p = r.begin; p < r.end; ++p)
            if (p < windowStart) visible.push_back(p);
    const int64_t sinks = std::min<int64_t>(config.sinkTokens, windowStart);
    const int64_t selectedCount = int64_t(visible.size());

    std::vector<std::pair<int64_t, int64_t>> keys; // (position, distance)
    for (int64_t j = 0; j < selectedCount; ++j)
        keys.push_back({visible[size_t(j)], window + selectedCount - 1 - j});
    for (int64_t t = 0; t < sinks; ++t)
        keys.push_back({t, window + selectedCount + sinks - 1 - t});
    for (int64_t t = windowStart; t <= position; ++t)
        keys.push_back({t, position - t});

    std::vector<double> scores;
    std::vector<float> rotated(static_cast<size_t>(d));
    for (const auto& [keyPosition, distance] : keys) {
        std::copy(q, q + d, rotated.begin());
        f.rope.rotate(rotated.data(), distance);
        const float* k = f.store.keys(layer, keyPosition) + int64_t(kvHead) * d;
        double dot = 0.0;
        for (int32_t i = 0; i < d; ++i)
            dot += double(rotated[size_t(i)]) * k[i];
        scores.push_back(dot * f.params.scale);
    }
    const double best = *std::max_element(scores.begin(), scores.end());
    double total = 0.0;
    for (double& s : scores)
        total += (s = std::exp(s - best));
    std::vector<double> acc(size_t(d), 0.0);
    for (size_t i = 0; i < keys.size(); ++i) {
        const float* v = f.store.values(layer, keys[i].first) + int64_t(kvHead) * d;
        for (int32_t c = 0; c < d; ++c)
            acc[size_t(c)] += scores[i] / total * v[c];
    }
    for (int32_t c = 0; c < d; ++c)
        out[c] = float(acc[size_t(c)]);
}

// A random subset of the candidates of a query block ending at `lastPosition`, in runs of 4.
ChunkList randomSelection(std::mt19937& rng, const AttentionConfig& config, int64_t lastPosition) {
    const int64_t end = attn::candidateEnd(config, lastPosition);
    std::bernoulli_distribution pick(0.3);
    ChunkList ranges;
    for (int64_t begin = config.sinkTokens; begin < end; begin += 4)
        if (pick(rng)) ranges.push_back({begin, std::min(begin + 4, end)});
    return attn::mergeRanges(std::move(ranges), end);
}

// --- Naive exact mass ----------------------------------------------------------------------------

// Per key, the attention probability the query rows give it (row r at position start + r sees
// keys [0, start + r]), summed over rows and averaged over heads, the slow way in double: a plain
// softmax per row and head over scores at each key's distance, or at `farDistance` for keys
// farther than that (when positive). `keys` holds each position's unrotated keys (kvHeads x
// headDim), `q` each row's unrotated queries (heads x headDim).
std::vector<double> naiveExactMass(const std::vector<float>& keys, const std::vector<float>& q,
                                   int64_t rows, int64_t start,
                                   const backend::AttentionParams& params, const attn::Rope& rope,
                                   int64_t farDistance) {
    const int32_t d = params.headDim;
    const int32_t group = params.heads / params.kvHeads;
    std::vector<double> mass(size_t(start + rows), 0.0);
    std::vector<float> query(static_cast<size_t>(d)), key(static_cast<size_t>(d));
    for (int64_t r = 0; r < rows; ++r)
        for (int32_t head = 0; head < params.heads; ++head) {
            std::vector<double> scores;
            for (int64_t j = 0; j <= start + r; ++j) {
                const bool far = farDistance > 0 && start + r - j > farDistance;
                std::copy_n(q.begin() + (r * params.heads + head) * d, d, query.begin());
                rope.rotate(query.data(), far ? farDistance : start + r);
                std::copy_n(keys.begin() + (j * params.kvHeads + head / group) * d, d, key.begin());
                rope.rotate(key.data(), far ? 0 : j);
                double dot = 0.0;
                for (int32_t i = 0; i < d; ++i)
                    dot += double(query[size_t(i)]) * key[size_t(i)];
                scores.push_back(dot * params.scale);
            }
            const double best = *std::max_element(scores.begin(), scores.end());
            double total = 0.0;
            for (double& s : scores)
                total += (s = std::exp(s - best));
            for (size_t j = 0; j < scores.size(); ++j)
                mass[j] += scores[j] / total / params.heads;
        }
    return mass;
}

// --- The real model ---------------------------------------------------------------------------

// hip-3k scaled down so pruning is active at ~1.5K tokens: 16 sinks, a 128-token window, stages
// 64/16/4 keeping 512/256/128 keys (256 in the 3 first layers), dense only below 256 tokens.
AttentionConfig smallHipForModel() {
    AttentionConfig config = *AttentionConfig::preset("hip-3k");
    config.denseBelowTokens = 256;
    config.sinkTokens = 16;
    config.windowTokens = 128;
    config.stages = {{64, 512, 4, 16}, {16, 256, 4, 8}, {4, 128, 1, 4}};
    config.firstLayersFinalTokens = 256;
    requireOk(config.validate());
    return config;
}

// A document of about 1.5K tokens: a ledger of made-up facts.
std::string ledger() {
    static const char* cities[] = {"Lisbon", "Oslo", "Quito", "Hanoi", "Perth", "Tunis", "Riga"};
    static const char* goods[] = {"blue paint", "copper wire", "rice", "wool", "glass", "salt"};
    std::ostringstream text;
    for (int i = 1; i <= 72; ++i)
        text << "Entry " << i << ": the warehouse in " << cities[i % 7] << " holds "
             << (i * 37) % 500 << " crates of " << goods[i % 6] << ".\n";
    return text.str();
}

hip::GenerateOptions greedy(int32_t maxTokens) {
    hip::GenerateOptions options;
    options.maxTokens = maxTokens;
    options.sampler.temperature = 0.0f;
    return options;
}

} // namespace

class TestHipAttention : public QObject {
    Q_OBJECT
private slots:
    // 1. Full budget: HiP is exact attention.
    void hipMatchesDenseWhenBudgetCoversEveryKey_data();
    void hipMatchesDenseWhenBudgetCoversEveryKey();
    void decodeMassMatchesDenseWhenBudgetCoversEveryKey();
    void decodeMassFallsOnlyOnAttendedKeys();
    void exactMassOfQueryRowsIsTheirDenseSoftmax_data();
    void exactMassOfQueryRowsIsTheirDenseSoftmax();
    // 2. Pruning finds planted high-score keys.
    void stagesSelectPlantedPeaks_data();
    void stagesSelectPlantedPeaks();
    void treeSelectsPlantedPeaksForAlignedHeads_data();
    void treeSelectsPlantedPeaksForAlignedHeads();
    void chunkIndexedRopePrefersRecentChunksWhenContentIsUniform();
    // 3. The decode stage cache.
    void refreshScheduleIsNested();
    void decodeRecomputesStagesFromTheirCachedInputs_data();
    void decodeRecomputesStagesFromTheirCachedInputs();
    void treeDecodeRefreshesEveryInterval();
    void prefillInvalidatesTheDecodeCache();
    void configChangeInvalidatesTheDecodeCache();
    // 4. The packed layout of block-sparse attention.
    void rowLayoutPacksSinksAndSelectedBeforeWindow();
    void rowLayoutKeepsTrueDistancesWhenEveryCandidateIsSelected();
    void blockSparseAttendsAtPackedDistances_data();
    void blockSparseAttendsAtPackedDistances();
    void candidateGridCoversCandidatesOnce();
    void mergeRangesSortsMergesAndClips();
    // 5. Prefill and decode.
    void prefillAndDecodeAgreeOnLastPosition_data();
    void prefillAndDecodeAgreeOnLastPosition();
    // 6. Configuration.
    void everyPresetValidates();
    void presetsHaveDocumentedValues();
    void rejectsInvalidConfigsWithAMessage();
    // End to end on the default model.
    void modelTraceRecordsSelectionsOfEveryFedBackToken();
    void denseModelLeavesNoSelections();
    void modelTracesTheQuestionsTokens();

private:
    bool loadModel(std::string& error);

    hip::ThreadPool pool_{2};
    std::unique_ptr<hip::Engine> engine_;
};

// --- 1 -------------------------------------------------------------------------------------------

void TestHipAttention::hipMatchesDenseWhenBudgetCoversEveryKey_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<int>("headDim");
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("prefillRows");
    struct Case {
        const char* name;
        int heads, kvHeads, headDim, length, prefillRows;
    };
    // With 16 sinks and a 64-token window: 50 is shorter than sinks + window (no candidates),
    // 80 equals it, 81 has one candidate; 333 and 1001 have hundreds, all kept.
    const Case cases[] = {
        {"group 1, d 32, 50 tokens (< sinks + window)", 4, 4, 32, 50, 50},
        {"group 3, d 64, 80 tokens (= sinks + window)", 6, 2, 64, 80, 80},
        {"group 1, d 64, 81 tokens", 4, 4, 64, 81, 81},
        {"group 3, d 32, 333 tokens", 6, 2, 32, 333, 100},
        {"group 3, d 64, 1001 tokens", 6, 2, 64, 1001, 129},
    };
    for (Mode mode : {Mode::Hip, Mode::HipTree})
        for (const Case& c : cases)
            QTest::addRow("%s, %s", mode == Mode::Hip ? "stages" : "tree", c.name)
                << int(mode) << c.heads << c.kvHeads << c.headDim << c.length << c.prefillRows;
}

// Exact attention is the limit of HiP: when the budget covers every candidate, every key is
// attended once (sinks, candidates, window) at packed distances equal to the true ones, so only
// the rope table's rounding at different absolute angles separates HiP from dense. Checked for
// prefill (several query blocks, the last one partial) and decode, in both pruning layers
// (layer 0 chunk-indexed, layer 1 relative).
void TestHipAttention::hipMatchesDenseWhenBudgetCoversEveryKey() {
    QFETCH(int, mode);
    QFETCH(int, heads);
    QFETCH(int, kvHeads);
    QFETCH(int, headDim);
    QFETCH(int, length);
    QFETCH(int, prefillRows);
    const AttentionConfig config = coveringConfig(Mode(mode));
    KvFixture f({heads, kvHeads, headDim}, 2, 1234);
    f.appendRandom(length);
    Matrix q = f.randomQueries(prefillRows);
    const int64_t start = length - prefillRows;
    float worst = 0.0f;
    for (int32_t layer = 0; layer < 2; ++layer) {
        f.prepareRope(config, layer, length);
        Matrix dense(q.rows, q.cols), sparse(q.rows, q.cols), decoded(1, q.cols);
        attn::denseAttention(f.store, layer, start, q.act(), f.params, f.rope, dense.act(), pool_);

        attn::HipLayerState state;
        attn::hipAttention(f.store, layer, start, q.act(), f.params, config, f.rope, sparse.act(),
                           pool_, state);
        const float prefill = maxAbsDifference(sparse, 0, dense, 0, q.rows);
        QVERIFY2(prefill < kRopeTolerance,
                 qPrintable(QString("layer %1 prefill differs by %2").arg(layer).arg(prefill)));

        attn::HipLayerState decodeState;
        attn::hipAttention(f.store, layer, length - 1, q.rowRange(q.rows - 1, 1), f.params, config,
                           f.rope, decoded.act(), pool_, decodeState);
        const float decode = maxAbsDifference(decoded, 0, dense, q.rows - 1, 1);
        QVERIFY2(decode < kRopeTolerance,
                 qPrintable(QString("layer %1 decode differs by %2").arg(layer).arg(decode)));
        worst = std::max({worst, prefill, decode});
    }
    qInfo("max |hip - dense| = %.3g", double(worst));
}

// A decode step adds its attention probabilities, averaged over heads, to `mass` (what the trace
// shows as "the pages the answer attended to"). With a full budget they are exact attention's.
void TestHipAttention::decodeMassMatchesDenseWhenBudgetCoversEveryKey() {
    const AttentionConfig config = coveringConfig(Mode::Hip);
    const int32_t layer = 1;
    const int64_t length = 700;
    KvFixture f({6, 2, 32}, 2, 41);
    f.appendRandom(length);
    f.prepareRope(config, layer, length);
    Matrix q = f.randomQueries(1), out(1, q.cols);
    std::vector<float> hipMass(size_t(length), 0.0f), denseMass(size_t(length), 0.0f);
    attn::HipLayerState state;
    attn::hipAttention(f.store, layer, length - 1, q.act(), f.params, config, f.rope, out.act(),
                       pool_, state, hipMass.data());
    attn::accumulateExactMass(f.store, layer, length - 1, q.act(), f.params, f.rope, 0,
                              denseMass.data(), pool_);
    float worst = 0.0f;
    double total = 0.0;
    for (size_t p = 0; p < hipMass.size(); ++p) {
        worst = std::max(worst, std::abs(hipMass[p] - denseMass[p]));
        total += hipMass[p];
    }
    QVERIFY2(std::abs(total - 1.0) < 1e-4, qPrintable(QString("mass sums to %1").arg(total)));
    QVERIFY2(worst < 1e-6f, qPrintable(QString("mass differs by %1").arg(worst)));
}

// With pruning active the decode mass is still a distribution (sums to 1) and it is positive
// exactly on the attended keys: the sinks, the mask and the window; nothing else gets any.
void TestHipAttention::decodeMassFallsOnlyOnAttendedKeys() {
    for (Mode mode : {Mode::Hip, Mode::HipTree}) {
        const AttentionConfig config = prunedConfig(mode);
        const int32_t layer = 1;
        const int64_t length = 2000, position = length - 1;
        KvFixture f({6, 2, 32}, 2, 43);
        f.appendRandom(length);
        f.prepareRope(config, layer, length);
        Matrix q = f.randomQueries(1), out(1, q.cols);
        std::vector<float> mass(size_t(length), 0.0f);
        attn::HipLayerState state;
        attn::hipAttention(f.store, layer, position, q.act(), f.params, config, f.rope, out.act(),
                           pool_, state, mass.data());
        ChunkList attended{{0, config.sinkTokens}, {position - config.windowTokens + 1, length}};
        for (const ChunkList& head : state.mask.heads)
            attended.insert(attended.end(), head.begin(), head.end());
        attended = attn::mergeRanges(attended, length);
        QVERIFY(tokenCount(attended) < length / 2); // pruning is active
        double total = 0.0;
        for (int64_t p = 0; p < length; ++p) {
            total += mass[size_t(p)];
            QVERIFY2((mass[size_t(p)] > 0.0f) == covers(attended, p),
                     qPrintable(QString("mode %1, key %2: mass %3")
                                    .arg(int(mode))
                                    .arg(p)
                                    .arg(mass[size_t(p)])));
        }
        QVERIFY2(std::abs(total - 1.0) < 1e-4, qPrintable(QString("mass sums to %1").arg(total)));
    }
}

void TestHipAttention::exactMassOfQueryRowsIsTheirDenseSoftmax_data() {
    QTest::addColumn<bool>("pruned");
    QTest::newRow("dense") << false;
    QTest::newRow("HiP") << true;
}

// The question's trace: with KvCache::exactMass set, a prefill of query rows through the CPU
// backend adds each row's exact (dense) probabilities, averaged over heads, to the mass, and the
// output is the same as without the trace. Dense attention scores every key at its distance;
// while HiP prunes (the output attends to a tenth of the keys, the trace sees them all) keys
// beyond the window are scored at the window's distance, as HiP's pruning scores them.
void TestHipAttention::exactMassOfQueryRowsIsTheirDenseSoftmax() {
    QFETCH(bool, pruned);
    const AttentionConfig config = prunedConfig(Mode::Hip);
    backend::AttentionParams params;
    params.heads = 6;
    params.kvHeads = 2;
    params.headDim = 32;
    params.scale = 1.0f / std::sqrt(32.0f);
    params.rope = ropeParams(32);
    params.config = pruned ? &config : nullptr;
    const int64_t context = 2000, rows = 12, end = context + rows;
    const int64_t qCols = 6 * 32, kvCols = 2 * 32;
    std::mt19937 rng(47);
    std::normal_distribution<float> normal;
    auto random = [&](int64_t count) {
        std::vector<float> values(static_cast<size_t>(count));
        for (float& v : values)
            v = normal(rng);
        return values;
    };
    const std::vector<float> q = random(end * qCols), k = random(end * kvCols),
                             v = random(end * kvCols);
    auto act = [](const std::vector<float>& values, int64_t first, int64_t count, int64_t cols) {
        return backend::Act{const_cast<float*>(values.data()) + first * cols, count, cols, cols};
    };
    const std::unique_ptr<backend::Backend> cpu = backend::createCpuBackend(2);
    std::vector<float> mass;
    std::vector<float> outputs[2]; // the question rows' output with and without the trace
    for (int traced = 0; traced < 2; ++traced) {
        auto cache = cpu->createKvCache({1, 2, 32, end});
        QVERIFY(cache.isOk());
        std::vector<float> out(static_cast<size_t>(end * qCols));
        requireOk(cpu->attention(**cache, 0, 0, act(q, 0, context, qCols),
                                 act(k, 0, context, kvCols), act(v, 0, context, kvCols), params,
                                 act(out, 0, context, qCols)));
        if (traced) (*cache)->exactMass = &mass;
        requireOk(cpu->attention(**cache, 0, context, act(q, context, rows, qCols),
                                 act(k, context, rows, kvCols), act(v, context, rows, kvCols),
                                 params, act(out, context, rows, qCols)));
        outputs[traced].assign(out.begin() + context * qCols, out.end());
    }
    QVERIFY(outputs[0] == outputs[1]);

    attn::Rope rope(params.rope);
    rope.prepare(end);
    const int64_t farDistance = pruned ? config.windowTokens : 0;
    QCOMPARE(attn::exactMassFarDistance(params, 0, end, false), farDistance);
    const std::vector<double> expected = naiveExactMass(k, {q.begin() + context * qCols, q.end()},
                                                        rows, context, params, rope, farDistance);
    QCOMPARE(mass.size(), expected.size());
    double worst = 0.0, total = 0.0;
    for (size_t j = 0; j < mass.size(); ++j) {
        worst = std::max(worst, std::abs(double(mass[j]) - expected[j]));
        total += mass[j];
    }
    QVERIFY2(std::abs(total - double(rows)) < 1e-4,
             qPrintable(QString("mass sums to %1").arg(total)));
    QVERIFY2(worst < 1e-6, qPrintable(QString("mass differs by %1").arg(worst)));
}

// --- 2 -------------------------------------------------------------------------------------------

void TestHipAttention::stagesSelectPlantedPeaks_data() {
    QTest::addColumn<int>("layer");
    QTest::addColumn<bool>("decode");
    QTest::newRow("relative rope, prefill block") << 1 << false;
    QTest::newRow("relative rope, decode") << 1 << true;
    QTest::newRow("chunk-indexed rope, prefill block") << 0 << false;
    QTest::newRow("chunk-indexed rope, decode") << 0 << true;
}

// Multi-stage pruning keeps the few chunks whose keys score far above the rest, even though the
// final budget (96 keys, 112 in the chunk-indexed first layer) is under 3% of the ~4000
// candidates. The peaks live in one kv head and are seen by its three query heads only, so this
// also checks that chunk scores are the max over heads. In the chunk-indexed layer rope adds a
// recency preference (see the next test), but a strong content peak still wins: that is what the
// first layers need to find a retrieved fact.
void TestHipAttention::stagesSelectPlantedPeaks() {
    QFETCH(int, layer);
    QFETCH(bool, decode);
    const AttentionConfig config = prunedConfig(Mode::Hip);
    KvFixture f(kPlantedShape, 2, 99);
    plantPeaks(f);
    Matrix q = plantedQueries(f, decode ? 1 : config.queryBlock);
    const attn::QueryBlock query{q.act(), kPlantedTokens - q.rows};
    f.prepareRope(config, layer, kPlantedTokens);

    std::vector<ChunkList> stageInputs;
    const ChunkList mask = stagesFromScratch(f.context(layer, config), query, stageInputs);
    const int64_t end = attn::candidateEnd(config, query.lastPosition());
    QVERIFY2(config.finalTokens(layer) * 30 < end - config.sinkTokens, "pruning must be active");
    QVERIFY2(tokenCount(mask) <= config.finalTokens(layer), describe(mask).c_str());
    QVERIFY2(mask.front().begin >= config.sinkTokens && mask.back().end <= end,
             describe(mask).c_str());
    const std::string missing = missingPlateau(mask);
    QVERIFY2(missing.empty(), missing.c_str());
}

void TestHipAttention::treeSelectsPlantedPeaksForAlignedHeads_data() {
    QTest::addColumn<bool>("decode");
    QTest::newRow("prefill block") << false;
    QTest::newRow("decode") << true;
}

// The HiP v1.1 tree keeps a mask per head (64 keys of ~4000 candidates each). Every head whose
// query is aligned with the planted keys must end with all plateau keys selected.
void TestHipAttention::treeSelectsPlantedPeaksForAlignedHeads() {
    QFETCH(bool, decode);
    const AttentionConfig config = prunedConfig(Mode::HipTree);
    const int32_t layer = 1;
    KvFixture f(kPlantedShape, 2, 99);
    plantPeaks(f);
    Matrix q = plantedQueries(f, decode ? 1 : config.treeQueryBlock);
    const attn::QueryBlock query{q.act(), kPlantedTokens - q.rows};
    f.prepareRope(config, layer, kPlantedTokens);

    const attn::BlockMask mask = attn::treeMask(f.context(layer, config), query);
    QCOMPARE(mask.heads.size(), size_t(f.params.heads)); // one list per head
    const int32_t group = f.params.heads / f.params.kvHeads;
    for (int32_t h = 0; h < f.params.heads; ++h)
        QVERIFY2(tokenCount(mask.forHead(h)) <= config.treeTokens,
                 describe(mask.forHead(h)).c_str());
    for (int32_t h = kPlantedKvHead * group; h < (kPlantedKvHead + 1) * group; ++h) {
        const std::string missing = missingPlateau(mask.forHead(h));
        QVERIFY2(missing.empty(), qPrintable(QString("head %1: %2").arg(h).arg(missing.c_str())));
    }
}

// What chunk-indexed rope means for the first layers: keys of the j-th candidate chunk sit at
// position j and the query after the last chunk, so with content alike everywhere the score
// only depends on the rope distance and the most recent chunks win, a sliding-window-like
// mask (InfiniteHiP App. D). Every key here is the same vector r in rotary pairs 8..15, whose
// angles stay below pi at the distances used (<= 190), so cos(distance x angle) strictly falls
// with distance and the expected mask is exactly the last 112 candidates.
void TestHipAttention::chunkIndexedRopePrefersRecentChunksWhenContentIsUniform() {
    const AttentionConfig config = prunedConfig(Mode::Hip);
    const int32_t layer = 0; // < firstLayers
    const int64_t length = 2048;
    KvFixture f({4, 2, 32}, 1, 5);
    f.appendRandom(length);
    const int32_t d = f.params.headDim;
    auto uniform = [&](int32_t i) { return i >= d / 2 ? 0.25f : 0.0f; };
    for (int64_t p = 0; p < length; ++p)
        for (int32_t kvHead = 0; kvHead < f.params.kvHeads; ++kvHead)
            for (int32_t i = 0; i < d; ++i)
                f.key(layer, p, kvHead)[i] = uniform(i);
    f.prepareRope(config, layer, length);
    for (int64_t rows : {int64_t(1), int64_t(config.queryBlock)}) {
        Matrix q(rows, int64_t(f.params.heads) * d);
        for (int64_t r = 0; r < rows; ++r)
            for (int32_t h = 0; h < f.params.heads; ++h)
                for (int32_t i = 0; i < d; ++i)
                    q.row(r)[h * d + i] = 2.0f * uniform(i);
        const attn::QueryBlock query{q.act(), length - rows};
        std::vector<ChunkList> stageInputs;
        const ChunkList mask = stagesFromScratch(f.context(layer, config), query, stageInputs);
        const int64_t end = attn::candidateEnd(config, query.lastPosition());
        const ChunkList expected{{end - config.firstLayersFinalTokens, end}};
        QVERIFY2(mask == expected, qPrintable(QString("%1 rows: mask %2, expected %3")
                                                  .arg(rows)
                                                  .arg(describe(mask).c_str())
                                                  .arg(describe(expected).c_str())));
    }
}

// --- 3 -------------------------------------------------------------------------------------------

// firstStageToRefresh(step) = the first stage whose interval divides the step. With nested
// intervals (each divides the previous) that recomputes exactly the stages whose interval
// divides the step: the schedule of InfiniteHiP Fig. 7.
void TestHipAttention::refreshScheduleIsNested() {
    struct Expectation {
        const char* preset;
        std::vector<std::pair<int64_t, size_t>> steps; // step -> first stage recomputed
    };
    const Expectation expectations[] = {
        {"hip-3k", {{0, 0}, {1, 3}, {3, 3}, {4, 2}, {8, 1}, {12, 2}, {16, 0}, {24, 1}, {48, 0}}},
        {"hip-3k-fast", {{0, 0}, {4, 3}, {8, 2}, {16, 1}, {24, 2}, {32, 0}, {48, 1}, {64, 0}}},
        {"hip-3k-flash",
         {{0, 0}, {4, 3}, {8, 2}, {16, 2}, {24, 1}, {32, 2}, {48, 1}, {72, 1}, {96, 0}, {192, 0}}},
    };
    for (const Expectation& e : expectations) {
        const AttentionConfig config = *AttentionConfig::preset(e.preset);
        for (const auto& [step, first] : e.steps)
            QVERIFY2(attn::firstStageToRefresh(config, step) == first,
                     qPrintable(QString("%1 step %2").arg(e.preset).arg(step)));
        for (int64_t step = 0; step < 400; ++step) {
            const size_t first = attn::firstStageToRefresh(config, step);
            for (size_t s = 0; s < config.stages.size(); ++s)
                QVERIFY2((s >= first) == (step % config.stages[s].refreshInterval == 0),
                         qPrintable(QString("%1 step %2 stage %3").arg(e.preset).arg(step).arg(s)));
        }
    }
}

void TestHipAttention::decodeRecomputesStagesFromTheirCachedInputs_data() {
    QTest::addColumn<int>("layer");
    QTest::newRow("relative rope") << 1;
    QTest::newRow("chunk-indexed rope") << 0;
}

// Decode over a growing store, one key per step, refresh intervals 16/8/4. Each step recomputes
// the stages from firstStageToRefresh(step) on (all of them at step 0), starting from that
// stage's input cached at its last refresh; so:
//  - a full refresh equals a from-scratch estimate at the current position;
//  - a refresh from stage s equals runStages(s, cached input of s) and leaves the cached inputs of
//    stages <= s alone while replacing those of later stages;
//  - otherwise mask and cache are kept;
// and the output is block-sparse attention with the step's mask.
void TestHipAttention::decodeRecomputesStagesFromTheirCachedInputs() {
    QFETCH(int, layer);
    const AttentionConfig config = prunedConfig(Mode::Hip);
    const size_t stageCount = config.stages.size();
    const int64_t prefix = 1536, steps = 40;
    KvFixture f({4, 2, 32}, 2, 7);
    f.appendRandom(prefix);
    f.prepareRope(config, layer, prefix + steps);
    attn::HipLayerState state;
    int fullRefreshes = 0, partialRefreshes = 0;
    for (int64_t step = 0; step < steps; ++step) {
        const int64_t position = prefix + step;
        f.appendRandom(position + 1);
        Matrix q = f.randomQueries(1), out(1, q.cols), expectedOut(1, q.cols);
        const attn::QueryBlock query{q.act(), position};
        const attn::HipLayerState before = state;

        attn::hipAttention(f.store, layer, position, q.act(), f.params, config, f.rope, out.act(),
                           pool_, state);

        const size_t first = step == 0 ? 0 : attn::firstStageToRefresh(config, step);
        const QString where = QString("step %1 (first stage %2)").arg(step).arg(first);
        QVERIFY2(state.valid, qPrintable(where));
        QCOMPARE(state.refreshedStages, int32_t(stageCount - first));
        QCOMPARE(state.mask.heads.size(), size_t(1));
        if (first == stageCount) {
            QVERIFY2(state.mask.heads == before.mask.heads, qPrintable(where));
            QVERIFY2(state.stageInputs == before.stageInputs, qPrintable(where));
        } else {
            const int64_t end = attn::candidateEnd(config, position);
            std::vector<ChunkList> inputs =
                first == 0 ? std::vector<ChunkList>{} : before.stageInputs;
            const ChunkList input =
                first == 0 ? attn::initialChunks(config, end) : before.stageInputs[first];
            const ChunkList expected = attn::mergeRanges(
                attn::runStages(f.context(layer, config), first, input, query, inputs), end);
            QVERIFY2(state.mask.heads[0] == expected,
                     qPrintable(where + ": mask " + describe(state.mask.heads[0]).c_str() +
                                ", expected " + describe(expected).c_str()));
            for (size_t s = 1; s < stageCount; ++s) {
                const ChunkList& wanted =
                    s <= first ? before.stageInputs[s] : inputs[s]; // kept vs recomputed
                QVERIFY2(state.stageInputs[s] == wanted,
                         qPrintable(where + QString(": cached input of stage %1").arg(s)));
            }
            if (first == 0) {
                std::vector<ChunkList> scratch;
                QVERIFY2(state.mask.heads[0] ==
                             stagesFromScratch(f.context(layer, config), query, scratch),
                         qPrintable(where));
                ++fullRefreshes;
            } else {
                ++partialRefreshes;
            }
        }
        for (int32_t kvHead = 0; kvHead < f.params.kvHeads; ++kvHead)
            attn::blockSparseAttention(f.store, layer, query, state.mask, kvHead, f.params, config,
                                       f.rope, expectedOut.act());
        QVERIFY2(maxAbsDifference(out, 0, expectedOut, 0, 1) <= 1e-6f, qPrintable(where));
    }
    QCOMPARE(fullRefreshes, 3);    // steps 0, 16, 32
    QCOMPARE(partialRefreshes, 7); // steps 4, 8, 12, 20, 24, 28, 36
}

// The tree's decode mask is recomputed every treeRefreshInterval (8) steps and reused between.
void TestHipAttention::treeDecodeRefreshesEveryInterval() {
    const AttentionConfig config = prunedConfig(Mode::HipTree);
    const int32_t layer = 1;
    const int64_t prefix = 1536, steps = 20;
    KvFixture f({4, 2, 32}, 2, 8);
    f.appendRandom(prefix);
    f.prepareRope(config, layer, prefix + steps);
    attn::HipLayerState state;
    for (int64_t step = 0; step < steps; ++step) {
        const int64_t position = prefix + step;
        f.appendRandom(position + 1);
        Matrix q = f.randomQueries(1), out(1, q.cols);
        const attn::BlockMask before = state.mask;
        attn::hipAttention(f.store, layer, position, q.act(), f.params, config, f.rope, out.act(),
                           pool_, state);
        const bool refresh = step % config.treeRefreshInterval == 0;
        QCOMPARE(state.refreshedStages, refresh ? 1 : 0);
        const attn::BlockMask expected =
            refresh ? attn::treeMask(f.context(layer, config), {q.act(), position}) : before;
        QVERIFY2(state.mask.heads == expected.heads, qPrintable(QString("step %1").arg(step)));
    }
}

// Attention settings can change between two tokens of an answer (Engine::setAttention): a decode
// cache made under other settings must not be reused (the tree leaves no stage inputs, so reusing
// its state under the stages once indexed an empty list).
void TestHipAttention::configChangeInvalidatesTheDecodeCache() {
    const AttentionConfig tree = prunedConfig(Mode::HipTree);
    const AttentionConfig stages = prunedConfig(Mode::Hip);
    const int32_t layer = 1;
    const int64_t prefix = 1536;
    KvFixture f({4, 2, 32}, 2, 10);
    f.appendRandom(prefix + 5);
    f.prepareRope(tree, layer, prefix + 5);
    f.prepareRope(stages, layer, prefix + 5);
    attn::HipLayerState state;
    for (int64_t position = prefix; position < prefix + 4; ++position) {
        Matrix q = f.randomQueries(1), out(1, q.cols);
        attn::hipAttention(f.store, layer, position, q.act(), f.params, tree, f.rope, out.act(),
                           pool_, state);
    }
    // Step 4 would refresh only the last stage; with a new config every stage is recomputed.
    Matrix q = f.randomQueries(1), out(1, q.cols);
    attn::hipAttention(f.store, layer, prefix + 4, q.act(), f.params, stages, f.rope, out.act(),
                       pool_, state);
    QCOMPARE(state.refreshedStages, int32_t(stages.stages.size()));
    QVERIFY(state.builtFor == stages);
    std::vector<ChunkList> scratch;
    const int64_t end = attn::candidateEnd(stages, prefix + 4);
    const ChunkList expected = attn::mergeRanges(attn::runStages(f.context(layer, stages), 0,
                                                                 attn::initialChunks(stages, end),
                                                                 {q.act(), prefix + 4}, scratch),
                                                 end);
    QVERIFY(state.mask.heads.size() == 1 && state.mask.heads[0] == expected);
}

// A prefill (more than one row) resets the layer's decode state, so the next decode step
// refreshes every stage at its own position instead of reusing masks of an older context.
void TestHipAttention::prefillInvalidatesTheDecodeCache() {
    const AttentionConfig config = prunedConfig(Mode::Hip);
    const int32_t layer = 1;
    KvFixture f({4, 2, 32}, 2, 9);
    f.appendRandom(1600);
    f.prepareRope(config, layer, 1700);
    attn::HipLayerState state;
    for (int64_t position = 1500; position < 1503; ++position) {
        Matrix q = f.randomQueries(1), out(1, q.cols);
        attn::hipAttention(f.store, layer, position, q.act(), f.params, config, f.rope, out.act(),
                           pool_, state);
    }
    QCOMPARE(state.decodeStep, int64_t(3));

    Matrix block = f.randomQueries(96), blockOut(96, block.cols);
    attn::hipAttention(f.store, layer, 1503, block.act(), f.params, config, f.rope, blockOut.act(),
                       pool_, state);
    QVERIFY(!state.valid);
    QCOMPARE(state.decodeStep, int64_t(0));

    f.appendRandom(1601);
    Matrix q = f.randomQueries(1), out(1, q.cols);
    attn::hipAttention(f.store, layer, 1600, q.act(), f.params, config, f.rope, out.act(), pool_,
                       state);
    QCOMPARE(state.refreshedStages, int32_t(config.stages.size()));
    std::vector<ChunkList> scratch;
    QVERIFY(state.mask.heads[0] ==
            stagesFromScratch(f.context(layer, config), {q.act(), 1600}, scratch));
}

// --- 4 -------------------------------------------------------------------------------------------

// For random selections and positions: the window is the last `window` positions; the visible
// selected keys are exactly those before it; sinks are visible only before the window; selected
// keys sit contiguously right before the window (the nearest at distance `window`) and the sinks
// right before them, so the farthest packed distance is below sinks + selected + window.
void TestHipAttention::rowLayoutPacksSinksAndSelectedBeforeWindow() {
    const AttentionConfig config = prunedConfig(Mode::Hip);
    const int64_t window = config.windowTokens, sinks = config.sinkTokens;
    std::mt19937 rng(11);
    for (int trial = 0; trial < 3000; ++trial) {
        const int64_t position = std::uniform_int_distribution<int64_t>(0, 5000)(rng);
        // The selection of a query block whose last row may lie up to 63 rows later.
        const int64_t last = position + std::uniform_int_distribution<int64_t>(0, 63)(rng);
        const int64_t end = attn::candidateEnd(config, last);
        std::vector<int64_t> selected;
        const double density = std::uniform_real_distribution<double>(0.0, 0.5)(rng);
        std::bernoulli_distribution pick(density);
        for (int64_t p = sinks; p < end; ++p)
            if (pick(rng)) selected.push_back(p);

        const attn::RowLayout layout = attn::rowLayout(selected, position, config);
        const QString where = QString("trial %1, position %2").arg(trial).arg(position);
        QCOMPARE(layout.windowStart, std::max<int64_t>(0, position - window + 1));
        QVERIFY2(layout.visibleSelected >= 0 && layout.visibleSelected <= int64_t(selected.size()),
                 qPrintable(where));
        for (int64_t j = 0; j < int64_t(selected.size()); ++j)
            QVERIFY2((selected[size_t(j)] < layout.windowStart) == (j < layout.visibleSelected),
                     qPrintable(where));
        QCOMPARE(layout.visibleSinks, std::min(sinks, layout.windowStart));
        QVERIFY2(layout.sinkDistance < layout.visibleSinks + layout.visibleSelected + window,
                 qPrintable(where));
        QVERIFY2(layout.sinkDistance < sinks + int64_t(selected.size()) + window,
                 qPrintable(where));
        if (layout.visibleSelected > 0) // the nearest selected key right after the window
            QCOMPARE(layout.selectedDistance - (layout.visibleSelected - 1), window);
        if (layout.visibleSinks > 0) // the nearest sink right after the selected keys
            QCOMPARE(layout.sinkDistance - (layout.visibleSinks - 1), layout.selectedDistance + 1);
    }
}

// When the mask holds every candidate of the block, each key in [0, position] is attended once
// (sinks, selected or window) and every packed distance is the true distance, which is why a
// full budget gives exact attention.
void TestHipAttention::rowLayoutKeepsTrueDistancesWhenEveryCandidateIsSelected() {
    const AttentionConfig config = prunedConfig(Mode::Hip);
    for (int64_t position = 0; position < 700; ++position)
        for (int64_t lastOffset : {0, 17, 63}) {
            const int64_t end = attn::candidateEnd(config, position + lastOffset);
            std::vector<int64_t> selected;
            for (int64_t p = config.sinkTokens; p < end; ++p)
                selected.push_back(p);
            const attn::RowLayout layout = attn::rowLayout(selected, position, config);
            const QString where = QString("position %1, last %2").arg(position).arg(lastOffset);
            QVERIFY2(layout.visibleSinks + layout.visibleSelected +
                             (position - layout.windowStart + 1) ==
                         position + 1,
                     qPrintable(where));
            for (int64_t j = 0; j < layout.visibleSelected; ++j)
                QVERIFY2(layout.selectedDistance - j == position - selected[size_t(j)],
                         qPrintable(where));
            for (int64_t t = 0; t < layout.visibleSinks; ++t)
                QVERIFY2(layout.sinkDistance - t == position - t, qPrintable(where));
        }
}

void TestHipAttention::blockSparseAttendsAtPackedDistances_data() {
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("perHead");
    QTest::newRow("decode, shared mask") << 1200 << 1 << false;
    QTest::newRow("prefill block, shared mask") << 1100 << 64 << false;
    QTest::newRow("prefill block, a mask per head") << 1100 << 32 << true;
    QTest::newRow("early block, windows reach into the sinks") << 40 << 64 << false;
}

// Block-sparse attention with a pruned (random) mask equals the naive definition: one softmax
// over the visible sinks, the visible selected keys and the window, at packed distances.
// Measured difference: at most 6.6e-7.
void TestHipAttention::blockSparseAttendsAtPackedDistances() {
    QFETCH(int, first);
    QFETCH(int, rows);
    QFETCH(bool, perHead);
    const AttentionConfig config = prunedConfig(Mode::Hip);
    const int32_t layer = 1;
    KvFixture f({6, 2, 64}, 2, 21);
    f.appendRandom(first + rows);
    Matrix q = f.randomQueries(rows), out(rows, q.cols);
    const attn::QueryBlock query{q.act(), first};

    attn::BlockMask mask;
    mask.heads.resize(perHead ? size_t(f.params.heads) : 1);
    int64_t mostSelected = 0;
    for (ChunkList& head : mask.heads) {
        head = randomSelection(f.rng, config, query.lastPosition());
        mostSelected = std::max(mostSelected, tokenCount(head));
    }
    f.rope.prepare(attn::sparseRopePositionsNeeded(config, mostSelected) + first + rows);
    for (int32_t kvHead = 0; kvHead < f.params.kvHeads; ++kvHead)
        attn::blockSparseAttention(f.store, layer, query, mask, kvHead, f.params, config, f.rope,
                                   out.act());

    float worst = 0.0f;
    std::vector<float> expected(static_cast<size_t>(f.params.headDim));
    for (int64_t r = 0; r < rows; ++r)
        for (int32_t h = 0; h < f.params.heads; ++h) {
            const float* qRow = q.row(r) + h * f.params.headDim;
            naivePackedAttention(f, layer, qRow, h, first + r, mask.forHead(h), config,
                                 expected.data());
            for (int32_t c = 0; c < f.params.headDim; ++c)
                worst = std::max(
                    worst, std::abs(out.row(r)[h * f.params.headDim + c] - expected[size_t(c)]));
        }
    qInfo("max |block sparse - naive| = %.3g", double(worst));
    QVERIFY2(worst < kRopeTolerance, qPrintable(QString("differs by %1").arg(worst)));
}

// The first stage's grid: consecutive chunks of the first chunk size from the sinks to the
// candidate end (the last one shorter), nothing when the context is shorter than sinks + window.
void TestHipAttention::candidateGridCoversCandidatesOnce() {
    const AttentionConfig config = prunedConfig(Mode::Hip); // sinks 16, window 64, chunk 32
    QCOMPARE(attn::candidateEnd(config, 50), int64_t(16));
    QCOMPARE(attn::candidateEnd(config, 79), int64_t(16));
    QCOMPARE(attn::candidateEnd(config, 80), int64_t(17));
    QCOMPARE(attn::candidateEnd(config, 1000), int64_t(937));
    QVERIFY(attn::initialChunks(config, 16).empty());
    const ChunkList grid = attn::initialChunks(config, 937);
    QCOMPARE(grid.size(), size_t(29)); // 921 candidates = 28 x 32 + 25
    int64_t next = config.sinkTokens;
    for (const KeyRange& chunk : grid) {
        QCOMPARE(chunk.begin, next);
        QVERIFY(chunk.end - chunk.begin == 32 || chunk.end == 937);
        next = chunk.end;
    }
    QCOMPARE(next, int64_t(937));
}

void TestHipAttention::mergeRangesSortsMergesAndClips() {
    const ChunkList merged = attn::mergeRanges(
        {{40, 48}, {8, 12}, {12, 16}, {44, 52}, {90, 99}, {20, 20}, {100, 120}}, 95);
    const ChunkList expected{{8, 16}, {40, 52}, {90, 95}};
    QVERIFY2(merged == expected, describe(merged).c_str());
}

// --- 5 -------------------------------------------------------------------------------------------

void TestHipAttention::prefillAndDecodeAgreeOnLastPosition_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("layer");
    QTest::newRow("stages, relative rope") << int(Mode::Hip) << 1;
    QTest::newRow("stages, chunk-indexed rope") << int(Mode::Hip) << 0;
    QTest::newRow("tree") << int(Mode::HipTree) << 1;
}

// A prefill block shares one mask estimated from all its rows (averaged in groups of the query
// stride, max over rows), while a decode step estimates from its single row, so with pruning
// active the last row of a full block and a decode step at the same position legitimately
// differ. They coincide when the prefill's last block holds only the last row: 2 blocks + 1 row
// (129 rows for the stages' 64-row blocks, 65 for the tree's 32). Then prefilling all rows
// must give the same last row as prefilling all but one and decoding the last (first decode
// step: every stage refreshes). The other rows are the same blocks in both runs.
void TestHipAttention::prefillAndDecodeAgreeOnLastPosition() {
    QFETCH(int, mode);
    QFETCH(int, layer);
    const AttentionConfig config = prunedConfig(Mode(mode));
    const int64_t block = Mode(mode) == Mode::HipTree ? config.treeQueryBlock : config.queryBlock;
    const int64_t length = 1537, rows = 2 * block + 1, start = length - rows;
    KvFixture f({4, 2, 32}, 2, 31);
    f.appendRandom(length);
    f.prepareRope(config, layer, length);
    Matrix q = f.randomQueries(rows), whole(rows, q.cols), split(rows, q.cols);

    attn::HipLayerState prefillState, splitState;
    attn::hipAttention(f.store, layer, start, q.act(), f.params, config, f.rope, whole.act(), pool_,
                       prefillState);
    attn::hipAttention(f.store, layer, start, q.rowRange(0, rows - 1), f.params, config, f.rope,
                       split.rowRange(0, rows - 1), pool_, splitState);
    attn::hipAttention(f.store, layer, length - 1, q.rowRange(rows - 1, 1), f.params, config,
                       f.rope, split.rowRange(rows - 1, 1), pool_, splitState);

    // Pruning is active: the decode mask keeps a budget far below the candidates.
    const int64_t candidates = attn::candidateEnd(config, length - 1) - config.sinkTokens;
    for (const ChunkList& head : splitState.mask.heads)
        QVERIFY2(tokenCount(head) > 0 && tokenCount(head) * 10 < candidates,
                 describe(head).c_str());

    const float last = maxAbsDifference(whole, rows - 1, split, rows - 1, 1);
    const float earlier = maxAbsDifference(whole, 0, split, 0, rows - 1);
    QVERIFY2(last <= 1e-6f, qPrintable(QString("last row differs by %1").arg(last)));
    QVERIFY2(earlier <= 1e-6f, qPrintable(QString("earlier rows differ by %1").arg(earlier)));
}

// --- 6 -------------------------------------------------------------------------------------------

void TestHipAttention::everyPresetValidates() {
    const std::vector<std::string> names = AttentionConfig::presetNames();
    QCOMPARE(names, (std::vector<std::string>{"dense", "hip-3k", "hip-3k-fast", "hip-3k-flash",
                                              "hip-5k", "hip-tree"}));
    for (const std::string& name : names) {
        const std::optional<AttentionConfig> config = AttentionConfig::preset(name);
        QVERIFY2(config.has_value(), name.c_str());
        QCOMPARE(config->name, name);
        const hip::Status status = config->validate();
        QVERIFY2(status.isOk(), (name + ": " + status.message()).c_str());
        QVERIFY(!config->describe().empty());
    }
    QVERIFY(!AttentionConfig::preset("hip-7k").has_value());
}

// The values of InfiniteHiP App. F and the HiP paper (docs: hip-attention.md 5.3, 6.1, 6.2).
void TestHipAttention::presetsHaveDocumentedValues() {
    auto stagesOf = [](const AttentionConfig& c) {
        std::vector<std::array<int64_t, 4>> out;
        for (const PruningStage& s : c.stages)
            out.push_back({s.chunkSize, s.keepTokens, s.queryStride, s.refreshInterval});
        return out;
    };
    using Stages = std::vector<std::array<int64_t, 4>>;

    QCOMPARE(AttentionConfig::preset("dense")->mode, Mode::Dense);

    const AttentionConfig threeK = *AttentionConfig::preset("hip-3k");
    QCOMPARE(threeK.mode, Mode::Hip);
    QCOMPARE(stagesOf(threeK), (Stages{{256, 32768, 4, 16}, {32, 8192, 4, 8}, {8, 2048, 1, 4}}));
    QCOMPARE(threeK.sinkTokens, 256);
    QCOMPARE(threeK.windowTokens, 1024);
    QCOMPARE(threeK.queryBlock, 64);
    QCOMPARE(threeK.firstLayers, 3);
    QCOMPARE(threeK.firstLayersFinalTokens, int64_t(4096));
    QCOMPARE(threeK.finalTokens(0), int64_t(4096));
    QCOMPARE(threeK.finalTokens(2), int64_t(4096));
    QCOMPARE(threeK.finalTokens(3), int64_t(2048));
    // The presets leave the crossover to the backend; without a measurement it is the default.
    QVERIFY(!threeK.denseBelowTokens);
    const int64_t crossover = AttentionConfig::kDefaultDenseBelowTokens;
    QCOMPARE(threeK.fixedCrossover(), (hip::DenseCrossover{crossover, crossover, false}));
    QVERIFY(threeK.denseAt(5, crossover - 1, crossover));
    QVERIFY(!threeK.denseAt(0, crossover, crossover));
    AttentionConfig fixed = threeK;
    fixed.denseBelowTokens = 100;
    QCOMPARE(fixed.fixedCrossover(), (hip::DenseCrossover{100, 100, false}));
    // A backend's parameters carry the crossover it prepared, per phase.
    hip::backend::AttentionParams params;
    QVERIFY(params.runsDense(3, 1 << 20, true)); // no configuration: dense
    params.config = &threeK;
    QVERIFY(params.runsDense(3, crossover - 1, false));
    QVERIFY(!params.runsDense(3, crossover, false));
    params.crossover = hip::DenseCrossover{50000, 20000, true};
    QVERIFY(params.runsDense(3, 49999, false));
    QVERIFY(!params.runsDense(3, 50000, false));
    QVERIFY(params.runsDense(3, 19999, true));
    QVERIFY(!params.runsDense(3, 20000, true));

    QCOMPARE(stagesOf(*AttentionConfig::preset("hip-3k-fast")),
             (Stages{{256, 32768, 4, 32}, {32, 8192, 4, 16}, {8, 2048, 1, 8}}));
    QCOMPARE(stagesOf(*AttentionConfig::preset("hip-3k-flash")),
             (Stages{{256, 32768, 4, 96}, {32, 8192, 4, 24}, {8, 2048, 1, 8}}));

    const AttentionConfig fiveK = *AttentionConfig::preset("hip-5k");
    QCOMPARE(stagesOf(fiveK), (Stages{{64, 32768, 4, 16}, {32, 16384, 4, 8}, {16, 4096, 1, 4}}));
    QCOMPARE(fiveK.sinkTokens, 256);
    QCOMPARE(fiveK.windowTokens, 1024);
    QCOMPARE(fiveK.firstLayersFinalTokens, int64_t(4096));

    const AttentionConfig tree = *AttentionConfig::preset("hip-tree");
    QCOMPARE(tree.mode, Mode::HipTree);
    QCOMPARE(tree.treeQueryBlock, 32);
    QCOMPARE(tree.treeKeyBlock, 2);
    QCOMPARE(tree.treeTokens, int64_t(512));
    QCOMPARE(tree.treeRefreshInterval, 8);
    QCOMPARE(tree.treeDenseLayers, 3);
    QCOMPARE(tree.finalTokens(0), int64_t(512));
    QVERIFY(tree.denseAt(2, 1 << 20, 0));  // the tree keeps its first layers dense
    QVERIFY(!tree.denseAt(3, 1 << 20, 0)); // and prunes the rest
}

// Each broken field is refused with InvalidArgument and a message naming what is wrong.
void TestHipAttention::rejectsInvalidConfigsWithAMessage() {
    struct Broken {
        const char* what;
        std::function<void(AttentionConfig&)> breakIt;
    };
    const std::vector<Broken> multiStage = {
        {"sinks", [](AttentionConfig& c) { c.sinkTokens = -1; }},
        {"window", [](AttentionConfig& c) { c.windowTokens = 0; }},
        {"query block", [](AttentionConfig& c) { c.queryBlock = 0; }},
        {"dense crossover", [](AttentionConfig& c) { c.denseBelowTokens = -1; }},
        {"at least one pruning stage", [](AttentionConfig& c) { c.stages.clear(); }},
        {"chunk size", [](AttentionConfig& c) { c.stages[0].chunkSize = 0; }},
        {"keep at least one chunk", [](AttentionConfig& c) { c.stages[0].keepTokens = 100; }},
        {"multiple of the chunk size", [](AttentionConfig& c) { c.stages[0].keepTokens = 300; }},
        {"query stride", [](AttentionConfig& c) { c.stages[1].queryStride = 3; }},
        {"refresh interval", [](AttentionConfig& c) { c.stages[2].refreshInterval = 0; }},
        {"divide the previous",
         [](AttentionConfig& c) {
             c.stages[1] = {48, 48 * 170, 4, 8};
         }},
        {"cannot keep more", [](AttentionConfig& c) { c.stages[1].keepTokens = 65536; }},
        {"nest", [](AttentionConfig& c) { c.stages[2].refreshInterval = 3; }},
        {"first layers must", [](AttentionConfig& c) { c.firstLayers = -1; }},
        {"multiple of the last chunk size",
         [](AttentionConfig& c) { c.firstLayersFinalTokens = 4095; }},
    };
    const std::vector<Broken> tree = {
        {"tree blocks", [](AttentionConfig& c) { c.treeQueryBlock = 0; }},
        {"tree blocks", [](AttentionConfig& c) { c.treeKeyBlock = 0; }},
        {"tree tokens", [](AttentionConfig& c) { c.treeTokens = 511; }},
        {"tree tokens", [](AttentionConfig& c) { c.treeTokens = 1; }},
        {"tree refresh", [](AttentionConfig& c) { c.treeRefreshInterval = 0; }},
        {"dense layers", [](AttentionConfig& c) { c.treeDenseLayers = -1; }},
    };
    auto check = [](const char* preset, const std::vector<Broken>& cases) {
        for (const Broken& b : cases) {
            AttentionConfig config = *AttentionConfig::preset(preset);
            b.breakIt(config);
            const hip::Status status = config.validate();
            const QString where = QString("%1, %2: '%3'")
                                      .arg(QString::fromUtf8(preset), QString::fromUtf8(b.what),
                                           QString::fromStdString(status.message()));
            if (status.isOk()) return where + " accepted";
            if (status.code() != hip::ErrorCode::InvalidArgument) return where + " wrong code";
            if (status.message().rfind("attention: ", 0) != 0 ||
                status.message().find(b.what) == std::string::npos)
                return where + " unexpected message";
        }
        return QString();
    };
    for (const auto& [preset, cases] : {std::pair{"hip-3k", &multiStage}, {"hip-tree", &tree}}) {
        const QString failure = check(preset, *cases);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
}

// --- End to end ------------------------------------------------------------------------------

bool TestHipAttention::loadModel(std::string& error) {
    if (engine_) return true;
    hip::LoadOptions options;
    options.model = hiptest::defaultModelPath();
    options.contextTokens = 2048;
    options.attention = smallHipForModel();
    auto engine = hip::Engine::load(options);
    if (!engine) {
        error = engine.message();
        return false;
    }
    engine_ = std::move(*engine);
    return true;
}

// With HiP pruning at ~1.5K tokens the model still answers, and the trace has one entry per
// token fed back into the model, at consecutive positions after the prompt; every layer of every
// entry lists the HiP selection: sorted disjoint ranges of candidates (after the sinks, before
// that token's window), within the layer's budget; hitCounts[p] counts the selections holding p.
void TestHipAttention::modelTraceRecordsSelectionsOfEveryFedBackToken() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    std::string error;
    QVERIFY2(loadModel(error), error.c_str());
    const AttentionConfig config = smallHipForModel();
    requireOk(engine_->setAttention(config));
    auto session = engine_->newSession();
    session->setSystemPrompt(ledger());
    auto answer =
        session->ask("How many crates does the warehouse of entry 42 hold?", greedy(12), {});
    QVERIFY2(answer.isOk(), answer.message().c_str());
    qInfo("answer (%lld prompt tokens): %s", (long long)answer->stats.promptTokens,
          answer->text.c_str());
    QVERIFY(!answer->text.empty());
    const int64_t promptTokens = answer->stats.promptTokens + answer->stats.reusedTokens;
    QVERIFY2(promptTokens > 1200 && promptTokens < 1900, qPrintable(QString::number(promptTokens)));

    const hip::AttentionTrace& trace = session->trace();
    // Every generated token is fed back except the last one when generation stopped at maxTokens.
    const size_t fedBack =
        answer->tokens.size() - (answer->stopReason == hip::StopReason::MaxTokens ? 1 : 0);
    QVERIFY(fedBack > 0);
    QCOMPARE(trace.tokens.size(), fedBack);
    const size_t layers = size_t(engine_->info().layers);
    std::vector<uint32_t> hits;
    for (size_t i = 0; i < trace.tokens.size(); ++i) {
        const hip::TokenAttention& token = trace.tokens[i];
        QCOMPARE(token.position, promptTokens + int64_t(i));
        QCOMPARE(token.layers.size(), layers);
        const int64_t candidateEnd = token.position + 1 - config.windowTokens;
        for (size_t layer = 0; layer < layers; ++layer) {
            const ChunkList& ranges = token.layers[layer];
            const QString where = QString("token %1 layer %2: %3")
                                      .arg(token.position)
                                      .arg(layer)
                                      .arg(describe(ranges).c_str());
            QVERIFY2(!ranges.empty(), qPrintable(where));
            QVERIFY2(tokenCount(ranges) <= config.finalTokens(int32_t(layer)), qPrintable(where));
            int64_t previousEnd = config.sinkTokens;
            for (const KeyRange& r : ranges) {
                QVERIFY2(r.begin >= previousEnd && r.end > r.begin && r.end <= candidateEnd,
                         qPrintable(where));
                previousEnd = r.end + 1; // merged ranges neither overlap nor touch
                if (hits.size() < size_t(r.end)) hits.resize(size_t(r.end));
                for (int64_t p = r.begin; p < r.end; ++p)
                    ++hits[size_t(p)];
            }
        }
    }
    hits.resize(std::max(hits.size(), trace.hitCounts.size()));
    QCOMPARE(trace.hitCounts.size(), size_t(trace.tokens.back().position + 1));
    QVERIFY(trace.hitCounts == hits);
}

// In dense mode no layer prunes, so at the same ~1.5K-token context the trace holds no
// selections (no entry lists a range and no position is counted).
void TestHipAttention::denseModelLeavesNoSelections() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    std::string error;
    QVERIFY2(loadModel(error), error.c_str());
    AttentionConfig dense = *AttentionConfig::preset("dense");
    requireOk(engine_->setAttention(dense));
    auto session = engine_->newSession();
    session->setSystemPrompt(ledger());
    auto answer =
        session->ask("How many crates does the warehouse of entry 42 hold?", greedy(6), {});
    requireOk(engine_->setAttention(smallHipForModel()));
    QVERIFY2(answer.isOk(), answer.message().c_str());
    QVERIFY(!answer->text.empty());
    QVERIFY(answer->stats.promptTokens > 1200);
    const hip::AttentionTrace& trace = session->trace();
    for (const hip::TokenAttention& token : trace.tokens)
        for (const ChunkList& ranges : token.layers)
            QVERIFY2(ranges.empty(), describe(ranges).c_str());
    QVERIFY(std::all_of(trace.hitCounts.begin(), trace.hitCounts.end(),
                        [](uint32_t n) { return n == 0; }));
}

// The question's own tokens are traced while HiP prunes, and only they: each of them distributes
// one unit per layer over the keys it sees, so the mass is a whole number of tokens, at least the
// question's words and fewer than the prompt's tokens that ran (the user turn's opening is not
// the question). The answer's mass is kept apart.
void TestHipAttention::modelTracesTheQuestionsTokens() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    std::string error;
    QVERIFY2(loadModel(error), error.c_str());
    requireOk(engine_->setAttention(smallHipForModel()));
    auto session = engine_->newSession();
    auto ingested = session->ingest({"Ledger", ledger()}, {});
    QVERIFY2(ingested.isOk(), ingested.message().c_str());
    auto answer =
        session->ask("How many crates does the warehouse of entry 42 hold?", greedy(4), {});
    QVERIFY2(answer.isOk(), answer.message().c_str());
    QVERIFY(answer->stats.reusedTokens >= ingested->contextTokens);

    const hip::AttentionTrace& trace = session->trace();
    const int64_t promptEnd = answer->stats.reusedTokens + answer->stats.promptTokens;
    QCOMPARE(int64_t(trace.questionMass.size()), promptEnd);
    const double total = std::accumulate(trace.questionMass.begin(), trace.questionMass.end(), 0.0);
    const double questionTokens = total / double(engine_->info().layers);
    QVERIFY2(std::abs(questionTokens - std::round(questionTokens)) < 1e-3,
             qPrintable(QString::number(questionTokens)));
    QVERIFY2(questionTokens >= 12 && questionTokens < double(answer->stats.promptTokens),
             qPrintable(QString("%1 of %2").arg(questionTokens).arg(answer->stats.promptTokens)));
    QVERIFY(trace.mass.size() > size_t(promptEnd)); // the answer's tokens see the prompt too
}

QTEST_GUILESS_MAIN(TestHipAttention)
#include "test_hip_attention.moc"
