// HiP's block-sparse attention kernels (kernels/hip_sparse_attention.h) against the CPU reference
// (attention::blockSparseAttention) on random inputs and random masks: prefill over several query
// blocks and decode steps with the position and the mask in device memory. The GPU cache is
// written by kernels::appendKv (keys rotated at their positions) through a permuted page table;
// the CPU store holds the keys unrotated. Skipped when there is no GPU.

#include "test_cuda_support.h"

#include "attention/block_sparse_attention.h"
#include "attention/rope.h"
#include "hip/attention_config.h"
#include "kernels/hip_sparse_attention.h"
#include "kv/paged_kv_store.h"

#include <algorithm>
#include <cmath>
#include <memory>

using hip::backend::Act;
using hip::kernels::Half16;
using namespace cudatest;

namespace {

struct SparseCase {
    int32_t heads, kvHeads, headDim, ropeDims;
    bool neox;
    Half16 type;
    int32_t sinks, window;
    int64_t start;    // position of the first query row; keys [0, start + rows) are cached
    int64_t rows;     // query rows (prefill) or decode steps
    int64_t maskKeys; // selected keys per query block at most (0: empty masks)
    bool lengthOnDevice;
    bool mass; // decode: the attention trace too
};

// Random sorted, disjoint chunks within [sinks, candidateEnd) holding at most `budget` keys
// (chunks may touch).
hip::attention::ChunkList randomMask(const hip::AttentionConfig& config, int64_t lastPosition,
                                     int64_t budget, std::mt19937& random) {
    const int64_t end = hip::attention::candidateEnd(config, lastPosition);
    hip::attention::ChunkList chunks;
    int64_t keys = 0;
    int64_t position = config.sinkTokens + int64_t(random() % 8);
    while (position < end && keys < budget) {
        const int64_t length =
            std::min({int64_t(1 + random() % 24), end - position, budget - keys});
        chunks.push_back({position, position + length});
        keys += length;
        position += length + int64_t(random() % 3 == 0 ? 0 : random() % 40);
    }
    return chunks;
}

int64_t maskKeys(const hip::attention::ChunkList& chunks) {
    int64_t keys = 0;
    for (const auto& c : chunks)
        keys += c.end - c.begin;
    return keys;
}

// The overall relative error, and where the worst (row, head) is, for the log.
QString compare(const std::vector<float>& got, const std::vector<float>& expected, int64_t rows,
                int32_t heads, int32_t headDim, double& error) {
    error = relativeError(got, expected);
    double worst = -1.0;
    int64_t worstRow = 0;
    int32_t worstHead = 0;
    for (int64_t r = 0; r < rows; ++r)
        for (int32_t h = 0; h < heads; ++h) {
            const size_t first = size_t((r * heads + h) * headDim);
            const std::vector<float> a(got.begin() + first, got.begin() + first + headDim);
            const std::vector<float> b(expected.begin() + first,
                                       expected.begin() + first + headDim);
            const double e = relativeError(a, b);
            if (e > worst) {
                worst = e;
                worstRow = r;
                worstHead = h;
            }
        }
    return QString("relative error %1; worst row %2 head %3: %4 (got %5 %6, expected %7 %8)")
        .arg(error)
        .arg(worstRow)
        .arg(worstHead)
        .arg(worst)
        .arg(got[size_t((worstRow * heads + worstHead) * headDim)])
        .arg(got[size_t((worstRow * heads + worstHead) * headDim + 1)])
        .arg(expected[size_t((worstRow * heads + worstHead) * headDim)])
        .arg(expected[size_t((worstRow * heads + worstHead) * headDim + 1)]);
}

double toleranceFor(Half16 type) {
    return type == Half16::BF16 ? 2e-2 : 3e-3; // as the dense attention tests
}

// What every case builds: the reference's parameters, the same random keys and values in the CPU
// store (unrotated) and in a GPU cache layer (DeviceKvLayer: rotated, pages out of order), and
// the CPU angle table.
struct Fixture {
    SparseCase c;
    hip::backend::AttentionParams params;
    hip::AttentionConfig config;
    int64_t tokens, cols;
    hip::kv::PagedKvStore store;
    std::unique_ptr<DeviceKvLayer> gpu;
    hip::attention::Rope rope;

    Fixture(const SparseCase& sparseCase, std::mt19937& random)
        : c(sparseCase), params(attentionParams(c.heads, c.kvHeads, c.headDim, c.ropeDims, c.neox)),
          config(configFor(c)), tokens(c.start + c.rows), cols(int64_t(c.heads) * c.headDim),
          store(1, c.kvHeads, c.headDim, tokens), rope(params.rope) {
        fillRandomly(store, tokens, random);
        gpu = std::make_unique<DeviceKvLayer>(store, 0, params.rope, c.type, tokens + 1, random);
        rope.prepare(
            std::max(tokens, hip::attention::sparseRopePositionsNeeded(config, c.maskKeys)) + 1);
    }

    static hip::AttentionConfig configFor(const SparseCase& c) {
        hip::AttentionConfig config;
        config.mode = hip::AttentionConfig::Mode::Hip;
        config.sinkTokens = c.sinks;
        config.windowTokens = c.window;
        return config;
    }

    // The launch arguments every call shares (queries, mask and output are the caller's).
    hip::kernels::HipSparseAttention arguments() const {
        hip::kernels::HipSparseAttention a;
        a.queries.heads = c.heads;
        a.queries.stride = cols;
        a.kv = gpu->view();
        a.rope = gpu->rope();
        a.scale = params.scale;
        a.window = {c.sinks, c.window};
        return a;
    }

    // One query block of the CPU reference (rows of `q` from firstRow), for every KV head.
    void cpuAttention(const std::vector<float>& q, int64_t firstRow, int64_t rows,
                      int64_t firstPosition, const hip::attention::ChunkList& chunks,
                      std::vector<float>& out, float* mass) const {
        hip::attention::QueryBlock block;
        block.rows = {const_cast<float*>(q.data()) + firstRow * cols, rows, cols, cols};
        block.firstPosition = firstPosition;
        hip::attention::BlockMask mask;
        mask.heads = {chunks};
        const Act result{out.data() + firstRow * cols, rows, cols, cols};
        for (int32_t kvHead = 0; kvHead < c.kvHeads; ++kvHead)
            hip::attention::blockSparseAttention(store, 0, block, mask, kvHead, params, config,
                                                 rope, result, mass);
    }
};

} // namespace

Q_DECLARE_METATYPE(SparseCase)

class TestCudaHipAttention : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { CUDATEST_REQUIRE_GPU(); }

    void prefillMatchesCpu_data();
    void prefillMatchesCpu();
    void decodeMatchesCpu_data();
    void decodeMatchesCpu();
    void unsupportedArgumentsAreRefused();

private:
    std::mt19937 random_{20261206};
};

void TestCudaHipAttention::prefillMatchesCpu_data() {
    QTest::addColumn<SparseCase>("c");
    // heads, kvHeads, headDim, ropeDims, neox, type, sinks, window, start, rows, maskKeys,
    // lengthOnDevice, mass
    QTest::newRow("64, group 3, norm, fp16, 3 blocks (short last)")
        << SparseCase{6, 2, 64, 64, false, Half16::F16, 16, 64, 300, 150, 96, false, false};
    QTest::newRow("128, group 4, neox, bf16, 2 blocks")
        << SparseCase{8, 2, 128, 128, true, Half16::BF16, 16, 64, 500, 128, 200, false, false};
    QTest::newRow("128, group 1, partial neox 128/64, fp16, length on device")
        << SparseCase{2, 2, 128, 64, true, Half16::F16, 16, 64, 200, 81, 64, true, false};
    QTest::newRow("64, group 4, partial norm 64/24, bf16, from position 0")
        << SparseCase{8, 2, 64, 24, false, Half16::BF16, 16, 64, 0, 200, 128, false, false};
    QTest::newRow("128, group 3, norm, fp16, long masks")
        << SparseCase{3, 1, 128, 128, false, Half16::F16, 16, 64, 900, 70, 700, false, false};
    QTest::newRow("64, group 4, empty masks, fp16")
        << SparseCase{4, 1, 64, 64, false, Half16::F16, 16, 64, 400, 100, 0, false, false};
    QTest::newRow("128, group 4, default 256/1024, fp16")
        << SparseCase{4, 1, 128, 128, false, Half16::F16, 256, 1024, 2500, 96, 512, false, false};
}

// Rows [start, start + rows) in query blocks of 64, each with its own random mask.
void TestCudaHipAttention::prefillMatchesCpu() {
    QFETCH(SparseCase, c);
    Fixture f(c, random_);
    const int64_t cols = f.cols;
    const std::vector<float> q = randomValues(size_t(c.rows * cols), random_);
    const int32_t blockRows = 64;
    const int32_t blocks = int32_t((c.rows + blockRows - 1) / blockRows);
    std::vector<hip::attention::ChunkList> masks;
    int32_t capacity = 1;
    std::vector<float> expected(q.size());
    for (int32_t b = 0; b < blocks; ++b) {
        const int64_t firstRow = int64_t(b) * blockRows;
        const int64_t rows = std::min<int64_t>(blockRows, c.rows - firstRow);
        masks.push_back(randomMask(f.config, c.start + firstRow + rows - 1, c.maskKeys, random_));
        capacity = std::max(capacity, int32_t(masks.back().size()));
        f.cpuAttention(q, firstRow, rows, c.start + firstRow, masks.back(), expected, nullptr);
    }
    std::vector<int2> chunks(size_t(blocks) * size_t(capacity), int2{0, 0});
    std::vector<int32_t> counts(static_cast<size_t>(blocks));
    QString maskText;
    for (int32_t b = 0; b < blocks; ++b) {
        counts[size_t(b)] = int32_t(masks[size_t(b)].size());
        for (size_t i = 0; i < masks[size_t(b)].size(); ++i)
            chunks[size_t(b) * size_t(capacity) + i] = {int(masks[size_t(b)][i].begin),
                                                        int(masks[size_t(b)][i].end)};
        maskText +=
            QString(" %1 chunks/%2 keys").arg(counts[size_t(b)]).arg(maskKeys(masks[size_t(b)]));
    }

    const DeviceArray<float> deviceQ(q);
    const DeviceArray<int32_t> length(std::vector<int32_t>{int32_t(f.tokens)});
    const DeviceArray<int2> deviceChunks(chunks);
    const DeviceArray<int32_t> deviceCounts(counts);
    DeviceArray<float> out(q.size());
    out.setBytes(0xff); // NaN: every value must be written
    auto a = f.arguments();
    a.queries.q = deviceQ.data();
    a.queries.rows = int32_t(c.rows);
    a.queries.blockRows = blockRows;
    a.queries.firstPosition = c.lengthOnDevice ? 0 : c.start;
    a.queries.length = c.lengthOnDevice ? length.data() : nullptr;
    a.mask = {deviceChunks.data(), deviceCounts.data(), capacity};
    a.out = {out.data(), c.rows, cols, cols};
    QCOMPARE(hip::kernels::hipSparsePrefill(a, nullptr), cudaSuccess);
    const std::vector<float> got = out.read();
    QCOMPARE(cudaGetLastError(), cudaSuccess);

    double error = 0.0;
    const QString report = compare(got, expected, c.rows, c.heads, c.headDim, error);
    qInfo("masks:%s; %s", qPrintable(maskText), qPrintable(report));
    QVERIFY2(error < toleranceFor(c.type), qPrintable(report));
}

void TestCudaHipAttention::decodeMatchesCpu_data() {
    QTest::addColumn<SparseCase>("c");
    QTest::newRow("64, group 3, norm, fp16, mass")
        << SparseCase{6, 2, 64, 64, false, Half16::F16, 16, 64, 700, 3, 150, true, true};
    QTest::newRow("128, group 4, neox, bf16, mass")
        << SparseCase{8, 2, 128, 128, true, Half16::BF16, 16, 64, 900, 3, 300, true, true};
    QTest::newRow("128, group 1, partial norm 128/64, fp16, position from the host")
        << SparseCase{2, 2, 128, 64, false, Half16::F16, 16, 64, 600, 1, 200, false, false};
    QTest::newRow("64, group 4, partial neox 64/32, bf16, empty masks, mass")
        << SparseCase{4, 1, 64, 32, true, Half16::BF16, 16, 64, 500, 2, 0, true, true};
    QTest::newRow("64, group 3, shorter than the window, mass")
        << SparseCase{3, 1, 64, 64, false, Half16::F16, 16, 64, 40, 2, 0, true, true};
    QTest::newRow("128, group 4, default 256/1024, fp16, mass")
        << SparseCase{8, 2, 128, 128, false, Half16::F16, 256, 1024, 5000, 2, 2048, true, true};
}

// Decode steps at positions start, start + 1, ... with one set of launch arguments: only the
// query, the length and the mask change in device memory between steps, as in a replayed graph.
void TestCudaHipAttention::decodeMatchesCpu() {
    QFETCH(SparseCase, c);
    Fixture f(c, random_);
    const int64_t tokens = f.tokens, cols = f.cols;

    const int32_t multiprocessors = deviceMultiprocessors();
    hip::kernels::HipDecodeScratch scratch;
    scratch.keysPerHead = c.sinks + c.maskKeys + c.window;
    scratch.multiprocessors = multiprocessors;
    const uint64_t scratchBytes = hip::kernels::hipSparseDecodeScratchBytes(
        c.heads, c.kvHeads, c.headDim, scratch.keysPerHead, multiprocessors);
    const DeviceArray<uint8_t> scratchMemory(scratchBytes); // zeroed
    scratch.data = scratchMemory.data();

    const int32_t capacity = hip::kernels::kHipMaxMaskChunks;
    auto a = f.arguments();
    DeviceArray<float> q(static_cast<size_t>(cols)), out(static_cast<size_t>(cols));
    DeviceArray<int32_t> length(1), count(1);
    DeviceArray<int2> chunks(static_cast<size_t>(capacity));
    a.queries.q = q.data();
    a.queries.rows = 1;
    a.queries.length = c.lengthOnDevice ? length.data() : nullptr;
    a.queries.firstPosition = c.start;
    a.mask = {chunks.data(), count.data(), capacity};
    a.out = {out.data(), 1, cols, cols};
    // Mass starts from random values: the kernel adds to them.
    const std::vector<float> massBase = randomValues(size_t(tokens), random_, 0.01f);
    const DeviceArray<float> mass(massBase);
    a.mass = c.mass ? mass.data() : nullptr;
    std::vector<float> expectedMass = massBase;

    for (int64_t step = 0; step < c.rows; ++step) {
        const int64_t position = c.start + step;
        if (!c.lengthOnDevice && step > 0) break; // firstPosition is a host value
        const std::vector<float> query = randomValues(size_t(cols), random_);
        const hip::attention::ChunkList mask = randomMask(f.config, position, c.maskKeys, random_);
        QVERIFY(mask.size() <= size_t(capacity));
        std::vector<int2> chunkValues;
        for (const auto& r : mask)
            chunkValues.push_back({int(r.begin), int(r.end)});
        q.write(query);
        length.write(std::vector<int32_t>{int32_t(position + 1)});
        count.write(std::vector<int32_t>{int32_t(mask.size())});
        chunks.write(chunkValues);
        out.setBytes(0xff);

        std::vector<float> expected(static_cast<size_t>(cols));
        f.cpuAttention(query, 0, 1, position, mask, expected,
                       c.mass ? expectedMass.data() : nullptr);
        QCOMPARE(hip::kernels::hipSparseDecode(a, scratch, nullptr), cudaSuccess);
        const std::vector<float> got = out.read();
        QCOMPARE(cudaGetLastError(), cudaSuccess);
        double error = 0.0;
        const QString report = compare(got, expected, 1, c.heads, c.headDim, error);
        qInfo("step %d at %d, mask %d chunks/%d keys: %s", int(step), int(position),
              int(mask.size()), int(maskKeys(mask)), qPrintable(report));
        QVERIFY2(error < toleranceFor(c.type), qPrintable(report));
    }
    if (!c.mass) return;
    // The added mass, compared as a vector.
    const std::vector<float> gotMass = mass.read();
    std::vector<float> addedGot(gotMass.size()), addedExpected(gotMass.size());
    size_t worst = 0;
    for (size_t j = 0; j < gotMass.size(); ++j) {
        addedGot[j] = gotMass[j] - massBase[j];
        addedExpected[j] = expectedMass[j] - massBase[j];
        if (std::abs(addedGot[j] - addedExpected[j]) >
            std::abs(addedGot[worst] - addedExpected[worst]))
            worst = j;
    }
    const double error = relativeError(addedGot, addedExpected);
    const QString report = QString("mass: relative error %1; worst at position %2: got %3, "
                                   "expected %4")
                               .arg(error)
                               .arg(worst)
                               .arg(addedGot[worst])
                               .arg(addedExpected[worst]);
    qInfo("%s", qPrintable(report));
    QVERIFY2(error < toleranceFor(c.type), qPrintable(report));
}

void TestCudaHipAttention::unsupportedArgumentsAreRefused() {
    const SparseCase c{4, 2, 64, 64, false, Half16::F16, 16, 64, 100, 64, 32, false, false};
    Fixture f(c, random_);
    const DeviceArray<float> q(size_t(c.rows * f.cols)), out(size_t(c.rows * f.cols));
    const DeviceArray<int2> chunks(4);
    const DeviceArray<int32_t> counts(std::vector<int32_t>{0});
    const DeviceArray<float> mass(size_t(c.start + c.rows));
    auto a = f.arguments();
    a.queries.q = q.data();
    a.queries.rows = int32_t(c.rows);
    a.queries.firstPosition = c.start;
    a.mask = {chunks.data(), counts.data(), 4};
    a.out = {out.data(), c.rows, f.cols, f.cols};

    auto refused = a;
    refused.queries.blockRows = 32; // a block must be whole tiles of 64 rows
    QCOMPARE(hip::kernels::hipSparsePrefill(refused, nullptr), cudaErrorInvalidValue);
    refused = a;
    refused.mask.capacity = hip::kernels::kHipMaxMaskChunks + 1;
    QCOMPARE(hip::kernels::hipSparsePrefill(refused, nullptr), cudaErrorInvalidValue);
    refused = a;
    refused.mass = mass.data(); // decode only
    QCOMPARE(hip::kernels::hipSparsePrefill(refused, nullptr), cudaErrorInvalidValue);
    refused = a;
    refused.rope.dims = c.headDim + 2;
    QCOMPARE(hip::kernels::hipSparsePrefill(refused, nullptr), cudaErrorInvalidValue);

    hip::kernels::HipDecodeScratch scratch;
    scratch.keysPerHead = 256;
    scratch.multiprocessors = 1;
    const DeviceArray<uint8_t> scratchMemory(
        hip::kernels::hipSparseDecodeScratchBytes(c.heads, c.kvHeads, c.headDim, 256, 1));
    scratch.data = scratchMemory.data();
    QCOMPARE(hip::kernels::hipSparseDecode(a, scratch, nullptr), cudaErrorInvalidValue); // 64 rows
    refused = a;
    refused.queries.rows = 1;
    refused.queries.heads = 17 * c.kvHeads; // more than 16 heads per KV head
    refused.queries.stride = int64_t(refused.queries.heads) * c.headDim;
    QCOMPARE(hip::kernels::hipSparseDecode(refused, scratch, nullptr), cudaErrorInvalidValue);
    QCOMPARE(cudaGetLastError(), cudaSuccess);
}

QTEST_MAIN(TestCudaHipAttention)
#include "test_cuda_hip_attention.moc"
