// HiP's mask estimation on the GPU (kernels/hip_mask.h) against the CPU reference
// (attention/hip_mask.h) on the same keys and queries: chunk scores, the chunks each stage keeps,
// the final masks of prefill query blocks, and decode steps with the refresh schedule. Keys are
// 16-bit on the GPU, so scores differ by rounding; a selection may differ only where the CPU's
// scores tie within that rounding, and the suite counts and reports those. Skipped without a GPU.

#include "test_cuda_support.h"

#include "attention/hip_attention.h"
#include "attention/hip_mask.h"
#include "attention/rope.h"
#include "kernels/hip_mask.h"
#include "quant/dequantize.h"

#include <algorithm>
#include <bit>
#include <set>

using hip::AttentionConfig;
using hip::KeyRange;
using hip::attention::ChunkList;
using hip::kernels::Half16;
using hip::kernels::HipChunkLists;
using namespace cudatest;
namespace attn = hip::attention;

namespace {

struct MaskCase {
    int32_t heads, kvHeads, headDim, ropeDims;
    bool neox;
    Half16 kvType;
    int32_t layer; // below config.firstLayers: chunk-indexed scoring
};

AttentionConfig smallConfig() {
    AttentionConfig c = *AttentionConfig::preset("hip-3k");
    c.sinkTokens = 16;
    c.windowTokens = 64;
    c.queryBlock = 64;
    c.stages = {{32, 512, 4, 8}, {8, 128, 2, 4}, {2, 32, 1, 2}};
    c.firstLayers = 1;
    c.firstLayersFinalTokens = 48;
    return c;
}

// Random keys in a CPU store, the same keys in a paged GPU layer (rotated at their positions) and
// unrotated again for prefill's scoring.
struct Inputs {
    Inputs(const MaskCase& c, const AttentionConfig& config, int64_t tokens, std::mt19937& random)
        : store(c.layer + 1, c.kvHeads, c.headDim, tokens),
          params(attentionParams(c.heads, c.kvHeads, c.headDim, c.ropeDims, c.neox)),
          rope(params.rope) {
        fillRandomly(store, tokens, random);
        const int64_t ropePositions =
            attn::hipRopePositionsNeeded(config, c.layer, tokens) + tokens;
        rope.prepare(ropePositions);
        gpu = std::make_unique<DeviceKvLayer>(store, c.layer, params.rope, c.kvType, ropePositions,
                                              random);
        const hip::kernels::KvLayer& layer = gpu->view();
        unrotated = std::make_unique<DeviceArray<uint16_t>>(
            size_t(layer.kvHeads) * size_t(layer.capacity) * size_t(layer.headDim));
        QTEST_ASSERT(hip::kernels::hipUnrotateKeys(layer, gpu->rope(), tokens, unrotated->data(),
                                                   layer.capacity, nullptr) == cudaSuccess);
    }

    hip::kv::PagedKvStore store;
    hip::backend::AttentionParams params;
    attn::Rope rope;
    std::unique_ptr<DeviceKvLayer> gpu;
    std::unique_ptr<DeviceArray<uint16_t>> unrotated; // fp16, as prefill's scoring reads them
};

// Chunk lists of `blocks` query blocks on the device.
struct DeviceLists {
    DeviceLists(int32_t blocks, int32_t listCapacity)
        : chunks(size_t(blocks) * size_t(listCapacity)), counts(size_t(blocks)),
          capacity(listCapacity) {}
    HipChunkLists view() const { return {chunks.data(), counts.data(), capacity}; }
    std::vector<ChunkList> read() const {
        const std::vector<int2> all = chunks.read();
        const std::vector<int32_t> n = counts.read();
        std::vector<ChunkList> lists(n.size());
        for (size_t b = 0; b < n.size(); ++b)
            for (int32_t i = 0; i < n[b]; ++i) {
                const int2 c = all[b * size_t(capacity) + size_t(i)];
                lists[b].push_back({c.x, c.y});
            }
        return lists;
    }
    void write(const std::vector<ChunkList>& lists) {
        std::vector<int2> all(size_t(lists.size()) * size_t(capacity));
        std::vector<int32_t> n(lists.size());
        for (size_t b = 0; b < lists.size(); ++b) {
            n[b] = int32_t(lists[b].size());
            for (size_t i = 0; i < lists[b].size(); ++i)
                all[b * size_t(capacity) + i] =
                    make_int2(int(lists[b][i].begin), int(lists[b][i].end));
        }
        chunks.write(all);
        counts.write(n);
    }
    DeviceArray<int2> chunks;
    DeviceArray<int32_t> counts;
    int32_t capacity;
};

std::string describe(const ChunkList& chunks) {
    std::string text;
    for (const KeyRange& r : chunks)
        text += "[" + std::to_string(r.begin) + "," + std::to_string(r.end) + ")";
    return text;
}

// The score kernel keeps scores as order-preserving integers (for atomicMax).
float scoreFromOrderedBits(float stored) {
    const uint32_t u = std::bit_cast<uint32_t>(stored);
    return std::bit_cast<float>(u & 0x80000000u ? u & 0x7fffffffu : ~u);
}

// Scores that may rank either way on the GPU: it reads keys stored rotated in 16 bits (the CPU
// reference keeps them in fp32) and turns them with another order of additions, so a score moves
// by a few units of the storage type's roundoff (2^-11 for fp16, 2^-8 for bf16, relative to the
// score's terms). Eight units: |a - b| <= 8u (1 + |a|).
bool tie(float a, float b, Half16 keys) {
    const float roundoff = keys == Half16::BF16 ? 0x1p-8f : 0x1p-11f;
    return std::abs(a - b) <= 8.0f * roundoff * (1.0f + std::abs(a));
}

// Whether the GPU's kept chunks may differ from the CPU's: every chunk in one set and not the
// other scores within rounding of the CPU's weakest kept chunk.
int32_t differencesWithinTies(const ChunkList& input, const std::vector<float>& cpuScores,
                              const ChunkList& cpuKept, const ChunkList& gpuKept, Half16 keys,
                              bool& onlyTies) {
    const std::set<int64_t> cpu = [&] {
        std::set<int64_t> s;
        for (const KeyRange& r : cpuKept)
            s.insert(r.begin);
        return s;
    }();
    const std::set<int64_t> gpu = [&] {
        std::set<int64_t> s;
        for (const KeyRange& r : gpuKept)
            s.insert(r.begin);
        return s;
    }();
    float weakest = INFINITY;
    for (size_t i = 0; i < input.size(); ++i)
        if (cpu.count(input[i].begin)) weakest = std::min(weakest, cpuScores[i]);
    int32_t differences = 0;
    onlyTies = true;
    for (size_t i = 0; i < input.size(); ++i)
        if (cpu.count(input[i].begin) != gpu.count(input[i].begin)) {
            ++differences;
            if (!tie(cpuScores[i], weakest, keys)) onlyTies = false;
        }
    return differences;
}

hip::kernels::HipQueries deviceQueries(const DeviceArray<float>& q, const Inputs& in, int32_t rows,
                                       int64_t first, int32_t blockRows) {
    hip::kernels::HipQueries queries;
    queries.q = q.data();
    queries.stride = int64_t(in.params.heads) * in.params.headDim;
    queries.rows = rows;
    queries.heads = in.params.heads;
    queries.blockRows = blockRows;
    queries.firstPosition = first;
    return queries;
}

hip::kernels::HipPruningStage
stageFor(const Inputs& in, const AttentionConfig& config, int32_t layer, size_t s,
         const hip::kernels::HipQueries& queries, const hip::kernels::HipChunkLists& input,
         const hip::kernels::HipChunkLists& output, float* scores, bool unrotatedKeys = false) {
    const attn::PruningContext context{in.store, layer, in.params, config, in.rope};
    hip::kernels::HipPruningStage stage;
    stage.queries = queries;
    stage.kv = in.gpu->view();
    stage.rope = in.gpu->rope();
    stage.window = {config.sinkTokens, config.windowTokens};
    stage.chunkSize = config.stages[s].chunkSize;
    stage.keepChunks = int32_t(attn::stageKeepChunks(context, s));
    stage.queryStride = config.stages[s].queryStride;
    stage.nextChunkSize = s + 1 < config.stages.size() ? config.stages[s + 1].chunkSize : 0;
    stage.chunkIndexed = layer < config.firstLayers;
    stage.multiprocessors = deviceMultiprocessors();
    stage.input = input;
    stage.output = output;
    stage.scores = scores;
    if (unrotatedKeys) {
        stage.unrotatedKeys = in.unrotated->data();
        stage.unrotatedRows = in.gpu->view().capacity;
    }
    return stage;
}

} // namespace

Q_DECLARE_METATYPE(MaskCase)

class TestCudaHipMask : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { CUDATEST_REQUIRE_GPU(); }
    void unrotatedKeysEqualStoredKeys();
    void prefillMasksMatchCpu_data();
    void prefillMasksMatchCpu();
    void decodeRefreshMatchesCpu();

private:
    std::mt19937 random_{20261206};
};

// The keys prefill's scoring reads: the cache's keys rotated back to position 0, in fp16, equal
// the keys the CPU stored (before any rotation) within 16-bit rounding.
void TestCudaHipMask::unrotatedKeysEqualStoredKeys() {
    const AttentionConfig config = smallConfig();
    for (const MaskCase& c : {MaskCase{8, 2, 64, 64, false, Half16::F16, 1},
                              MaskCase{12, 4, 96, 64, true, Half16::BF16, 1}}) {
        const int64_t tokens = 700;
        Inputs in(c, config, tokens, random_);
        const std::vector<uint16_t> halves = in.unrotated->read();
        const int64_t capacity = in.gpu->view().capacity;
        float worst = 0.0f;
        for (int32_t h = 0; h < c.kvHeads; ++h)
            for (int64_t p = 0; p < tokens; ++p)
                for (int32_t d = 0; d < c.headDim; ++d) {
                    const float stored = in.store.keys(c.layer, p)[h * c.headDim + d];
                    const float gpu =
                        hip::quant::halfToFloat(halves[size_t((h * capacity + p) * c.headDim + d)]);
                    worst = std::max(worst, std::abs(gpu - stored) / (1.0f + std::abs(stored)));
                }
        qInfo("%s keys: largest difference %.2e", c.kvType == Half16::F16 ? "f16" : "bf16", worst);
        // Two roundings to 16 bits (bf16 storage: 2^-8 each) and the rotations' arithmetic.
        QVERIFY(worst <= (c.kvType == Half16::F16 ? 2e-3f : 1.2e-2f));
    }
}

void TestCudaHipMask::prefillMasksMatchCpu_data() {
    QTest::addColumn<MaskCase>("c");
    QTest::addColumn<bool>("unrotatedKeys");
    const std::pair<const char*, MaskCase> cases[] = {
        {"8/2x64 norm f16", {8, 2, 64, 64, false, Half16::F16, 1}},
        {"9/3x64 neox bf16", {9, 3, 64, 64, true, Half16::BF16, 1}},
        {"8/8x128 partial rope", {8, 8, 128, 64, true, Half16::F16, 1}},
        {"4/1x32 chunk-indexed", {4, 1, 32, 32, false, Half16::F16, 0}},
        {"12/4x96 chunk-indexed bf16", {12, 4, 96, 96, true, Half16::BF16, 0}},
    };
    for (const auto& [name, c] : cases) {
        QTest::newRow((std::string(name) + ", keys from the cache").c_str()) << c << false;
        QTest::newRow((std::string(name) + ", keys unrotated").c_str()) << c << true;
    }
}

// Every stage on the GPU from the same input as the CPU: scores within rounding, the same kept
// chunks except among ties; then the whole pipeline from the initial chunks to the mask.
void TestCudaHipMask::prefillMasksMatchCpu() {
    QFETCH(MaskCase, c);
    QFETCH(bool, unrotatedKeys);
    const AttentionConfig config = smallConfig();
    const int64_t tokens = 3000;
    const int32_t rows = 150, blockRows = config.queryBlock; // three blocks, the last short
    const int64_t first = tokens - rows;
    Inputs in(c, config, tokens, random_);
    const std::vector<float> qHost =
        randomValues(size_t(rows) * size_t(c.heads) * size_t(c.headDim), random_);
    const DeviceArray<float> q(qHost);
    const hip::kernels::HipQueries queries = deviceQueries(q, in, rows, first, blockRows);
    const int32_t blocks = queries.blocks();
    const attn::PruningContext context{in.store, c.layer, in.params, config, in.rope};

    const int32_t capacity = int32_t(tokens / config.stages[0].chunkSize) + 1;
    DeviceLists input(blocks, capacity), output(blocks, capacity), mask(blocks, capacity);
    DeviceArray<float> scores(size_t(blocks) * size_t(capacity));
    QCOMPARE(hip::kernels::hipInitialChunks(queries, {config.sinkTokens, config.windowTokens},
                                            config.stages[0].chunkSize, input.view(), {}, nullptr),
             cudaSuccess);

    std::vector<attn::QueryBlock> cpuBlocks;
    std::vector<ChunkList> cpuInputs;
    for (int32_t b = 0; b < blocks; ++b) {
        const int64_t blockFirst = first + int64_t(b) * blockRows;
        const int64_t n = std::min<int64_t>(blockRows, rows - int64_t(b) * blockRows);
        const hip::backend::Act act{const_cast<float*>(qHost.data()) +
                                        int64_t(b) * blockRows * in.params.heads * c.headDim,
                                    n, int64_t(c.heads) * c.headDim, int64_t(c.heads) * c.headDim};
        cpuBlocks.push_back({act, blockFirst});
        cpuInputs.push_back(attn::initialChunks(
            config, attn::candidateEnd(config, cpuBlocks.back().lastPosition())));
    }
    QCOMPARE(input.read(), cpuInputs);

    // Stage by stage from the CPU's input.
    int32_t scored = 0, scoreMismatches = 0, differences = 0;
    std::vector<bool> metTie(size_t(blocks), false); // a stage's selection of the block met a tie
    for (size_t s = 0; s < config.stages.size(); ++s) {
        input.write(cpuInputs);
        const hip::kernels::HipPruningStage stage =
            stageFor(in, config, c.layer, s, queries, input.view(), output.view(), scores.data(),
                     unrotatedKeys);
        QCOMPARE(hip::kernels::hipPruneStage(stage, nullptr), cudaSuccess);
        QCOMPARE(cudaDeviceSynchronize(), cudaSuccess);
        const std::vector<float> gpuScores = scores.read();
        const std::vector<ChunkList> gpuOut = output.read();
        for (int32_t b = 0; b < blocks; ++b) {
            const ChunkList& chunkInput = cpuInputs[size_t(b)];
            const std::vector<float> cpuScores =
                attn::scoreChunks(context, s, chunkInput, cpuBlocks[size_t(b)]);
            for (size_t i = 0; i < chunkInput.size(); ++i, ++scored) {
                const float gpuScore =
                    scoreFromOrderedBits(gpuScores[size_t(b) * size_t(capacity) + i]);
                if (!tie(gpuScore, cpuScores[i], c.kvType)) ++scoreMismatches;
            }
            // The CPU's output of stage s: the next stage's input, or the kept chunks.
            std::vector<ChunkList> inputs;
            const ChunkList kept =
                attn::runStages(context, s, chunkInput, cpuBlocks[size_t(b)], inputs);
            const ChunkList expected = s + 1 < config.stages.size() ? inputs[s + 1] : kept;
            if (gpuOut[size_t(b)] != expected) {
                // Compare as kept stage-s chunks: the pieces of a chunk start at its begin.
                ChunkList gpuKept, cpuKeptChunks;
                for (const KeyRange& chunk : chunkInput) {
                    const auto starts = [&](const ChunkList& list) {
                        return std::any_of(list.begin(), list.end(), [&](const KeyRange& r) {
                            return r.begin == chunk.begin;
                        });
                    };
                    if (starts(gpuOut[size_t(b)])) gpuKept.push_back(chunk);
                    if (starts(expected)) cpuKeptChunks.push_back(chunk);
                }
                bool onlyTies = true;
                metTie[size_t(b)] = true;
                differences += differencesWithinTies(chunkInput, cpuScores, cpuKeptChunks, gpuKept,
                                                     c.kvType, onlyTies);
                QVERIFY2(onlyTies,
                         qPrintable(QString("stage %1 block %2: GPU %3, CPU %4")
                                        .arg(s)
                                        .arg(b)
                                        .arg(QString::fromStdString(describe(gpuOut[size_t(b)])))
                                        .arg(QString::fromStdString(describe(expected)))));
            }
            cpuInputs[size_t(b)] = expected;
        }
    }
    qInfo("%d chunk scores: %d differ by more than rounding; %d kept chunks differ, all among ties",
          scored, scoreMismatches, differences);
    QVERIFY2(scoreMismatches * 50 <= scored, "more than 2% of the chunk scores differ");

    // The whole pipeline on the GPU: the masks equal the CPU's (counted when they do not).
    QCOMPARE(hip::kernels::hipInitialChunks(queries, {config.sinkTokens, config.windowTokens},
                                            config.stages[0].chunkSize, input.view(), {}, nullptr),
             cudaSuccess);
    DeviceLists* from = &input;
    DeviceLists* to = &output;
    for (size_t s = 0; s < config.stages.size(); ++s) {
        DeviceLists* target = s + 1 < config.stages.size() ? to : &mask;
        QCOMPARE(hip::kernels::hipPruneStage(stageFor(in, config, c.layer, s, queries, from->view(),
                                                      target->view(), scores.data(), unrotatedKeys),
                                             nullptr),
                 cudaSuccess);
        std::swap(from, to);
    }
    const std::vector<ChunkList> gpuMasks = mask.read();
    int32_t equal = 0;
    for (int32_t b = 0; b < blocks; ++b) {
        std::vector<ChunkList> stageInputs;
        const attn::BlockMask cpu = attn::estimateMask(context, cpuBlocks[size_t(b)], stageInputs);
        const int64_t end = attn::candidateEnd(config, cpuBlocks[size_t(b)].lastPosition());
        const ChunkList gpu = attn::mergeRanges(gpuMasks[size_t(b)], end);
        if (gpu == cpu.heads[0]) ++equal;
        // A mask may differ only where a stage's selection of its block met a tie.
        QVERIFY2(gpu == cpu.heads[0] || metTie[size_t(b)],
                 qPrintable(QString("block %1: GPU %2, CPU %3")
                                .arg(b)
                                .arg(QString::fromStdString(describe(gpu)))
                                .arg(QString::fromStdString(describe(cpu.heads[0])))));
    }
    qInfo("%d of %d block masks equal the CPU's", equal, blocks);
}

// Decode steps with a device step counter: a stage runs at the steps its refresh schedule names
// and its output stays as it was otherwise, as the CPU's decode cache does.
void TestCudaHipMask::decodeRefreshMatchesCpu() {
    const MaskCase c{8, 2, 64, 64, false, Half16::F16, 1};
    const AttentionConfig config = smallConfig();
    const int64_t tokens = 2500;
    Inputs in(c, config, tokens, random_);
    const attn::PruningContext context{in.store, c.layer, in.params, config, in.rope};
    const int32_t stages = int32_t(config.stages.size());
    const int32_t capacity = int32_t(tokens / config.stages[0].chunkSize) + 1;
    std::vector<std::unique_ptr<DeviceLists>> lists; // stage inputs, then the mask
    for (int32_t s = 0; s <= stages; ++s)
        lists.push_back(std::make_unique<DeviceLists>(1, capacity));
    DeviceArray<float> scores(static_cast<size_t>(capacity));
    DeviceArray<int32_t> step(std::vector<int32_t>{0}), length(std::vector<int32_t>{0});

    attn::HipLayerState cpu;
    const int64_t firstDecode = tokens - 12;
    int32_t refreshSteps = 0;
    for (int64_t position = firstDecode; position < tokens; ++position) {
        const std::vector<float> qHost = randomValues(size_t(c.heads * c.headDim), random_);
        const DeviceArray<float> q(qHost);
        const int32_t stepValue = int32_t(position - firstDecode),
                      lengthValue = int32_t(position + 1);
        step.write(std::vector<int32_t>{stepValue});
        length.write(std::vector<int32_t>{lengthValue});
        hip::kernels::HipQueries queries = deviceQueries(q, in, 1, 0, config.queryBlock);
        queries.length = length.data();
        hip::kernels::HipRefresh refresh;
        refresh.step = step.data();
        refresh.count = 1;
        refresh.intervals[0] = config.stages[0].refreshInterval;
        QCOMPARE(hip::kernels::hipInitialChunks(queries, {config.sinkTokens, config.windowTokens},
                                                config.stages[0].chunkSize, lists[0]->view(),
                                                refresh, nullptr),
                 cudaSuccess);
        for (int32_t s = 0; s < stages; ++s) {
            hip::kernels::HipPruningStage stage =
                stageFor(in, config, c.layer, size_t(s), queries, lists[size_t(s)]->view(),
                         lists[size_t(s) + 1]->view(), scores.data());
            stage.refresh.step = step.data();
            stage.refresh.count = s + 1;
            for (int32_t i = 0; i <= s; ++i)
                stage.refresh.intervals[i] = config.stages[size_t(i)].refreshInterval;
            QCOMPARE(hip::kernels::hipPruneStage(stage, nullptr), cudaSuccess);
        }
        const ChunkList gpuMask = lists[size_t(stages)]->read()[0];

        // The CPU's decode cache (attention/hip_attention.cpp).
        const hip::backend::Act act{const_cast<float*>(qHost.data()), 1,
                                    int64_t(c.heads) * c.headDim, int64_t(c.heads) * c.headDim};
        const attn::QueryBlock query{act, position};
        const size_t firstStage = cpu.valid ? attn::firstStageToRefresh(config, stepValue) : 0;
        if (firstStage < config.stages.size()) {
            ++refreshSteps;
            const int64_t end = attn::candidateEnd(config, position);
            ChunkList input =
                firstStage == 0 ? attn::initialChunks(config, end) : cpu.stageInputs[firstStage];
            cpu.mask = {{attn::mergeRanges(
                attn::runStages(context, firstStage, std::move(input), query, cpu.stageInputs),
                end)}};
        }
        cpu.valid = true;
        const int64_t end = attn::candidateEnd(config, position);
        QVERIFY2(attn::mergeRanges(gpuMask, end) == cpu.mask.heads[0],
                 qPrintable(QString("step %1: GPU %2, CPU %3")
                                .arg(stepValue)
                                .arg(QString::fromStdString(describe(gpuMask)))
                                .arg(QString::fromStdString(describe(cpu.mask.heads[0])))));
    }
    qInfo("12 decode steps, %d with a refresh, masks equal", refreshSteps);
}

QTEST_GUILESS_MAIN(TestCudaHipMask)
#include "test_cuda_hip_mask.moc"
