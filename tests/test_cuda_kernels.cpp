// Every CUDA kernel against the CPU reference on random inputs of several shapes, odd sizes
// included: through the Backend interface (the same calls on the CPU and CUDA backends) and, for
// the kernels the interface does not reach directly, through their launch functions. Skipped
// when there is no GPU.

#include "test_cuda_support.h"
#include "test_support.h"

#include "attention/rope.h"
#include "hip/attention_config.h"
#include "kernels/argmax.h"
#include "kernels/dequantize.h"
#include "kernels/rope.h"
#include "quant/dequantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using hip::backend::Act;
using hip::backend::AttentionParams;
using hip::backend::KvCacheShape;
using hip::quant::GgmlType;
using namespace cudatest;

Q_DECLARE_METATYPE(GgmlType)

namespace {

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

bool isKQuant(GgmlType t) {
    return t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K;
}

QString formatName(GgmlType t) {
    return QString::fromStdString(std::string(hip::quant::typeName(t)));
}

struct AttentionCase {
    int32_t heads, kvHeads, headDim, ropeDims;
    bool neox, factors;
    float positionScale;
    hip::kernels::Half16 kvType;
    int64_t firstRows, secondRows; // two prefill calls, then decode steps
};

} // namespace

Q_DECLARE_METATYPE(AttentionCase)

class TestCudaKernels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { CUDATEST_REQUIRE_GPU(); }

    void embedMatchesCpu_data();
    void embedMatchesCpu();
    void rmsNormMatchesCpu_data();
    void rmsNormMatchesCpu();
    void elementwiseMatchCpu();
    void matmulMatchesCpu_data();
    void matmulMatchesCpu();
    void dequantizeToHalfMatchesCpu_data();
    void dequantizeToHalfMatchesCpu();
    void ropeMatchesCpu_data();
    void ropeMatchesCpu();
    void attentionMatchesCpu_data();
    void attentionMatchesCpu();
    void attentionMassMatchesCpu_data();
    void attentionMassMatchesCpu();
    void exactMassMatchesCpu_data();
    void exactMassMatchesCpu();
    void decodeGraphMatchesEager();
    void argmaxMatchesMaxElement();
    void hipTreeIsRefused();
    void unsupportedShapesAreRefused();
    void outOfMemoryIsAnError();

private:
    std::mt19937 random_{20261126};
};

void TestCudaKernels::embedMatchesCpu_data() {
    QTest::addColumn<GgmlType>("type");
    QTest::addColumn<int>("cols");
    for (GgmlType t : kAllTypes)
        for (int cols : {256, 768})
            if (!isKQuant(t) || cols % 256 == 0)
                QTest::newRow(qPrintable(formatName(t) + QString(" x%1").arg(cols))) << t << cols;
    QTest::newRow("Q8_0 x96") << GgmlType::Q8_0 << 96;
}

// Dequantization is exact on both sides, so the rows must be identical.
void TestCudaKernels::embedMatchesCpu() {
    QFETCH(GgmlType, type);
    QFETCH(int, cols);
    const HostWeight table = randomWeight(type, 37, cols, random_);
    std::vector<int32_t> tokens = {5, 0, 36, 5, 17, 2, 33};
    std::vector<float> results[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(2));
        const Act out = side.empty(int64_t(tokens.size()), cols);
        side.backend().embed(side.weight(table), tokens, out);
        results[gpu] = side.read(out);
        QVERIFY(side.backend().takeError().isOk());
    }
    QCOMPARE(relativeError(results[1], results[0]), 0.0);
}

void TestCudaKernels::rmsNormMatchesCpu_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<bool>("fusedAdd");
    for (int rows : {1, 5})
        for (int cols : {64, 576, 4096})
            for (bool fused : {false, true})
                QTest::newRow(qPrintable(
                    QString("%1x%2%3").arg(rows).arg(cols).arg(fused ? " after add" : "")))
                    << rows << cols << fused;
}

// With an addInPlace just before, the CUDA backend fuses the add into the norm: the sum must
// still land in x.
void TestCudaKernels::rmsNormMatchesCpu() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(bool, fusedAdd);
    const std::vector<float> x = randomValues(size_t(rows * cols), random_, 3.0f);
    const std::vector<float> y = randomValues(size_t(rows * cols), random_);
    const HostWeight gamma = randomWeight(GgmlType::F32, 1, cols, random_, 1.0f);
    std::vector<float> normed[2], sums[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(2));
        const Act ax = side.act(x, rows, cols), ay = side.act(y, rows, cols);
        const Act out = side.empty(rows, cols);
        if (fusedAdd) side.backend().addInPlace(ax, ay);
        side.backend().rmsNorm(ax, side.weight(gamma), 1e-5f, out);
        normed[gpu] = side.read(out);
        sums[gpu] = side.read(ax);
        QVERIFY(side.backend().takeError().isOk());
    }
    QVERIFY2(relativeError(normed[1], normed[0]) < 1e-6,
             qPrintable(QString::number(relativeError(normed[1], normed[0]))));
    QVERIFY(relativeError(sums[1], sums[0]) < 1e-7);
}

void TestCudaKernels::elementwiseMatchCpu() {
    const int rows = 3, cols = 1000;
    const std::vector<float> a = randomValues(rows * cols, random_, 4.0f);
    const std::vector<float> b = randomValues(rows * cols, random_);
    std::vector<float> swiglu[2], added[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(2));
        const Act gate = side.act(a, rows, cols), up = side.act(b, rows, cols);
        const Act out = side.empty(rows, cols);
        side.backend().swiglu(gate, up, out);
        swiglu[gpu] = side.read(out);
        side.backend().addInPlace(gate, up);
        added[gpu] = side.read(gate);
        QVERIFY(side.backend().takeError().isOk());
    }
    QVERIFY(relativeError(swiglu[1], swiglu[0]) < 1e-6);
    QCOMPARE(relativeError(added[1], added[0]), 0.0);
}

namespace {

// How matmulMatchesCpu uses its input x. The CUDA backend quantizes x once for the
// matrix-vector products over block formats and keeps it for the next product that reads the
// same x, and runs consecutive products of one x and format as one launch: the sequences check
// that the kept copy serves while x is unchanged, and only then, and that a launch takes the
// products it may.
enum MatmulInputs {
    kOneProduct,
    kSameX,               // three products of x, the middle one with F16 weights (three launches
                          // unless the type is F16)
    kXRewrittenByProduct, // a product; x = z * W3^T with F32 W3 (a product that keeps the
                          // quantized x but writes over x); a product
    kXChangedByAdd,       // a product; x += z; a product
    kSameFormat,          // five products of x in one format, the first and third with a bias
                          // (one launch of four, then one of one)
    kSameOutput,          // two products of x into one output (two launches, in order)
};

} // namespace

void TestCudaKernels::matmulMatchesCpu_data() {
    QTest::addColumn<GgmlType>("type");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("outputs");
    QTest::addColumn<int>("cols");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<int>("inputs");
    for (GgmlType t : kAllTypes) {
        const int cols = isKQuant(t) ? 512 : 320;
        for (int rows : {1, 3, 7, 130}) {
            const int outputs = rows == 7 ? 4099 : 37;
            QTest::newRow(qPrintable(formatName(t) + QString(" %1 rows").arg(rows)))
                << t << rows << outputs << cols << (rows == 3) << int(kOneProduct);
        }
        QTest::newRow(qPrintable(formatName(t) + " 3 rows, three products of x"))
            << t << 3 << 37 << cols << true << int(kSameX);
        QTest::newRow(qPrintable(formatName(t) + " 1 row, x rewritten by a product"))
            << t << 1 << 37 << cols << false << int(kXRewrittenByProduct);
        QTest::newRow(qPrintable(formatName(t) + " 1 row, x changed by an add"))
            << t << 1 << 37 << cols << false << int(kXChangedByAdd);
        for (int rows : {1, 3})
            QTest::newRow(qPrintable(formatName(t) + QString(" %1 rows, five products of x in "
                                                             "one format")
                                                         .arg(rows)))
                << t << rows << 37 << cols << true << int(kSameFormat);
        QTest::newRow(qPrintable(formatName(t) + " 1 row, two products into one output"))
            << t << 1 << 37 << cols << false << int(kSameOutput);
    }
}

// One to four rows run the matrix-vector kernels on the quantized weights, with x in fp32 for
// float weights and, for the block formats, x quantized to int8 per 32 values with an fp32 scale
// (llama.cpp's q8_1 activations). That rounding alone gives these random inputs a relative error
// of about 5e-3 (at most 1e-2 over many draws of 37 outputs); llama.cpp's test-backend-ops
// accepts matrix products up to a normalized mean squared error of 5e-4, a relative error of
// 2.2e-2, and 2e-2 is the bound here. A stale quantized x would be off by about 1. More rows go
// through cuBLAS with fp16 (bf16 for BF16 weights) operands. Those roundings bound the error.
void TestCudaKernels::matmulMatchesCpu() {
    QFETCH(GgmlType, type);
    QFETCH(int, rows);
    QFETCH(int, outputs);
    QFETCH(int, cols);
    QFETCH(bool, bias);
    QFETCH(int, inputs);
    // The sequences draw from their own generator, so that the other rows' and tests' inputs stay
    // as they were.
    std::mt19937 sequenceRandom(20261127);
    std::mt19937& generator = inputs == kOneProduct ? random_ : sequenceRandom;
    const HostWeight w = randomWeight(type, outputs, cols, generator);
    const HostWeight b = randomWeight(GgmlType::F32, 1, outputs, generator, 1.0f);
    const std::vector<float> x = randomValues(size_t(rows * cols), generator);
    // The sequences' other weights (another shape: other output strides) and z.
    HostWeight secondWeight, halfWeight, rewriteWeight;
    std::vector<float> z;
    if (inputs != kOneProduct) {
        secondWeight = randomWeight(type, outputs + 5, cols, generator);
        halfWeight = randomWeight(GgmlType::F16, outputs, cols, generator);
        rewriteWeight = randomWeight(GgmlType::F32, cols, cols, generator);
        z = randomValues(size_t(rows * cols), generator);
    }
    // Products of x in `type` between the first and the last: kSameFormat's three (the middle
    // one takes the bias), kSameOutput's one (into the first product's output).
    std::vector<HostWeight> moreWeights;
    if (inputs == kSameFormat || inputs == kSameOutput)
        for (int extra : inputs == kSameFormat ? std::vector<int>{2, 0, 64} : std::vector<int>{0})
            moreWeights.push_back(randomWeight(type, outputs + extra, cols, generator));
    std::vector<float> results[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(2));
        hip::backend::Backend& backend = side.backend();
        const Act in = side.act(x, rows, cols), out = side.empty(rows, outputs);
        backend.matmul(in, side.weight(w), bias ? &side.weight(b) : nullptr, out);
        std::vector<Act> outs = {out};
        if (inputs == kSameX) {
            outs.push_back(side.empty(rows, outputs));
            backend.matmul(in, side.weight(halfWeight), nullptr, outs.back());
        } else if (inputs == kSameFormat || inputs == kSameOutput) {
            for (const HostWeight& m : moreWeights) {
                const bool biased = inputs == kSameFormat && m.view.rows == outputs;
                if (inputs == kSameFormat) outs.push_back(side.empty(rows, m.view.rows));
                backend.matmul(in, side.weight(m), biased ? &side.weight(b) : nullptr, outs.back());
            }
        } else if (inputs != kOneProduct) {
            const Act other = side.act(z, rows, cols);
            if (inputs == kXRewrittenByProduct)
                backend.matmul(other, side.weight(rewriteWeight), nullptr, in);
            else
                backend.addInPlace(in, other);
        }
        if (inputs != kOneProduct) {
            outs.push_back(side.empty(rows, outputs + 5));
            backend.matmul(in, side.weight(secondWeight), nullptr, outs.back());
        }
        for (const Act& o : outs) {
            const std::vector<float> values = side.read(o);
            results[gpu].insert(results[gpu].end(), values.begin(), values.end());
        }
        QVERIFY(backend.takeError().isOk());
    }
    const bool floatWeights =
        type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
    const double tolerance = rows <= 4                ? (floatWeights ? 1e-5 : 2e-2)
                             : type == GgmlType::F32  ? 1e-5
                             : type == GgmlType::BF16 ? 1e-2
                                                      : 2e-3;
    const double error = relativeError(results[1], results[0]);
    QVERIFY2(error < tolerance, qPrintable(QString("relative error %1").arg(error)));
}

void TestCudaKernels::dequantizeToHalfMatchesCpu_data() {
    QTest::addColumn<GgmlType>("type");
    for (GgmlType t : kAllTypes)
        QTest::newRow(qPrintable(formatName(t))) << t;
}

// Weight tiles for cuBLAS: the CPU's floats rounded to fp16 or bf16 exactly as the device does.
void TestCudaKernels::dequantizeToHalfMatchesCpu() {
    QFETCH(GgmlType, type);
    const int rows = 41, cols = 512, firstRow = 3, count = 29;
    const HostWeight w = randomWeight(type, rows, cols, random_, 2.0f);
    const uint64_t rowBytes = *hip::quant::rowBytes(type, cols);
    const DeviceArray<uint8_t> device(w.bytes);
    DeviceArray<uint16_t> out(size_t(count) * cols);
    for (auto storage : {hip::kernels::Half16::F16, hip::kernels::Half16::BF16}) {
        out.setBytes(0xff); // NaN: every value must be written
        QCOMPARE(hip::kernels::dequantizeRows(device.data(), type, int64_t(rowBytes), firstRow,
                                              count, cols, out.data(), storage, nullptr),
                 cudaSuccess);
        const std::vector<uint16_t> got = out.read();
        std::vector<float> row(cols);
        for (int r = 0; r < count; ++r) {
            hip::quant::dequantizeRow(type, w.bytes.data() + (firstRow + r) * rowBytes, row.data(),
                                      cols);
            for (int c = 0; c < cols; ++c) {
                const bool f16 = storage == hip::kernels::Half16::F16;
                const uint16_t expected = f16 ? hip::quant::floatToHalf(row[size_t(c)])
                                              : hip::quant::floatToBf16(row[size_t(c)]);
                const uint16_t value = got[size_t(r) * cols + c];
                // The same value; a zero may come out with either sign.
                const auto asFloat = [&](uint16_t h) {
                    return f16 ? hip::quant::halfToFloat(h) : hip::quant::bf16ToFloat(h);
                };
                if (asFloat(value) != asFloat(expected))
                    QFAIL(qPrintable(QString("row %1 col %2: %3 instead of %4")
                                         .arg(r)
                                         .arg(c)
                                         .arg(got[size_t(r) * cols + c])
                                         .arg(expected)));
            }
        }
    }
}

void TestCudaKernels::ropeMatchesCpu_data() {
    QTest::addColumn<int>("headDim");
    QTest::addColumn<int>("ropeDims");
    QTest::addColumn<bool>("neox");
    QTest::addColumn<bool>("factors");
    QTest::addColumn<float>("positionScale");
    QTest::newRow("norm 128") << 128 << 128 << false << false << 1.0f;
    QTest::newRow("neox 64") << 64 << 64 << true << false << 1.0f;
    QTest::newRow("norm 64, partial 32") << 64 << 32 << false << false << 1.0f;
    QTest::newRow("neox 128, partial 64, linear x4") << 128 << 64 << true << false << 0.25f;
    QTest::newRow("norm 128, llama3 factors") << 128 << 128 << false << true << 1.0f;
    QTest::newRow("norm 32") << 32 << 32 << false << false << 1.0f;
}

// Queries at arbitrary positions (far apart, out of order, up to 10^6): rotated, scaled and
// stored head-major in fp16, against the CPU rotation.
void TestCudaKernels::ropeMatchesCpu() {
    QFETCH(int, headDim);
    QFETCH(int, ropeDims);
    QFETCH(bool, neox);
    QFETCH(bool, factors);
    QFETCH(float, positionScale);
    const int rows = 19, heads = 3;
    hip::backend::RopeParams params;
    params.dims = ropeDims;
    params.freqBase = 500000.0f;
    params.neox = neox;
    params.positionScale = positionScale;
    if (factors)
        for (int i = 0; i < ropeDims / 2; ++i)
            params.freqFactors.push_back(1.0f + float(i % 7));
    std::vector<int32_t> positions(rows);
    std::uniform_int_distribution<int32_t> position(0, 1000000);
    for (int32_t& p : positions)
        p = position(random_);
    positions[0] = 0;
    positions[1] = 255;
    positions[2] = 256;
    const std::vector<float> x = randomValues(size_t(rows) * heads * headDim, random_);
    const float scale = 0.125f;

    hip::attention::Rope rope(params);
    rope.prepare(*std::max_element(positions.begin(), positions.end()) + 1);
    std::vector<float> expected(x.size());
    for (int r = 0; r < rows; ++r)
        for (int h = 0; h < heads; ++h) {
            std::vector<float> head(x.begin() + (r * heads + h) * headDim,
                                    x.begin() + (r * heads + h + 1) * headDim);
            rope.rotate(head.data(), positions[size_t(r)]);
            for (int d = 0; d < headDim; ++d)
                expected[size_t((h * rows + r) * headDim + d)] = head[size_t(d)] * scale;
        }

    hip::backend::DevicePool pool;
    hip::backend::DeviceRopeTables tables(params);
    QVERIFY(tables.cover(1000001, pool, nullptr).isOk());
    const DeviceArray<float> dx(x);
    const DeviceArray<int32_t> dp(positions);
    DeviceArray<uint16_t> out(x.size());
    out.setBytes(0xff); // NaN: every value must be written
    const hip::kernels::Rows in{dx.data(), rows, heads * headDim, heads * headDim};
    QCOMPARE(hip::kernels::ropeRows(in, heads, headDim, dp.data(), tables.view(), scale, out.data(),
                                    int64_t(rows) * headDim, hip::kernels::Half16::F16, nullptr),
             cudaSuccess);
    const std::vector<uint16_t> got = out.read();
    std::vector<float> gotFloat(got.size());
    for (size_t i = 0; i < got.size(); ++i)
        gotFloat[i] = hip::quant::halfToFloat(got[i]);
    const double error = relativeError(gotFloat, expected);
    QVERIFY2(error < 1e-3, qPrintable(QString("relative error %1").arg(error)));
}

void TestCudaKernels::attentionMatchesCpu_data() {
    using hip::kernels::Half16;
    QTest::addColumn<AttentionCase>("c");
    QTest::newRow("SmolLM2 shape (64, group 3)")
        << AttentionCase{9, 3, 64, 64, false, false, 1.0f, Half16::F16, 300, 37};
    QTest::newRow("Llama 3.1 shape (128, group 4, factors)")
        << AttentionCase{8, 2, 128, 128, false, true, 1.0f, Half16::F16, 257, 130};
    QTest::newRow("Qwen2 shape (NEOX, group 7)")
        << AttentionCase{14, 2, 64, 64, true, false, 1.0f, Half16::F16, 100, 5};
    QTest::newRow("MHA, head dim 32, linear x4")
        << AttentionCase{4, 4, 32, 32, false, false, 0.25f, Half16::F16, 65, 64};
    QTest::newRow("partial rotary, NEOX 128/64")
        << AttentionCase{4, 2, 128, 64, true, false, 1.0f, Half16::F16, 70, 129};
    QTest::newRow("head dim 96 (group 3)")
        << AttentionCase{6, 2, 96, 96, false, false, 1.0f, Half16::F16, 130, 21};
    QTest::newRow("head dim 96, NEOX 96/32, bf16")
        << AttentionCase{4, 1, 96, 32, true, false, 1.0f, Half16::BF16, 64, 200};
    QTest::newRow("partial rotary, NORM 64/24")
        << AttentionCase{6, 3, 64, 24, false, false, 1.0f, Half16::F16, 90, 17};
    QTest::newRow("partial rotary, NEOX 32/20, bf16")
        << AttentionCase{4, 4, 32, 20, true, false, 1.0f, Half16::BF16, 33, 70};
    QTest::newRow("bf16 KV") << AttentionCase{8,     2,    128,          128, false,
                                              false, 1.0f, Half16::BF16, 600, 3};
    QTest::newRow("one long prefill")
        << AttentionCase{4, 1, 64, 64, false, false, 1.0f, Half16::F16, 1500, 2};
}

// Two prefill calls (the second attends to the first's keys from the cache), then decode steps.
// The CUDA cache keeps keys rotated, the CPU's unrotated: the outputs must agree regardless.
void TestCudaKernels::attentionMatchesCpu() {
    QFETCH(AttentionCase, c);
    AttentionParams params = attentionParams(c.heads, c.kvHeads, c.headDim, c.ropeDims, c.neox);
    params.rope.positionScale = c.positionScale;
    if (c.factors)
        for (int i = 0; i < c.ropeDims / 2; ++i)
            params.rope.freqFactors.push_back(i < c.ropeDims / 8 ? 1.0f : 8.0f);
    const int64_t qCols = int64_t(c.heads) * c.headDim, kvCols = int64_t(c.kvHeads) * c.headDim;
    const int decodeSteps = 3;
    const int64_t capacity = c.firstRows + c.secondRows + decodeSteps;
    const int64_t calls[] = {c.firstRows, c.secondRows, 1, 1, 1};

    std::vector<std::vector<float>> inputs;
    for (int64_t rows : calls)
        for (int64_t cols : {qCols, kvCols, kvCols})
            inputs.push_back(randomValues(size_t(rows * cols), random_));
    std::vector<std::vector<float>> outputs[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend(c.kvType) : hip::backend::createCpuBackend(4));
        auto cache = side.backend().createKvCache(KvCacheShape{1, c.kvHeads, c.headDim, capacity});
        QVERIFY(cache.isOk());
        int64_t start = 0;
        for (size_t call = 0; call < std::size(calls); ++call) {
            const int64_t rows = calls[call];
            const Act q = side.act(inputs[3 * call], rows, qCols);
            const Act k = side.act(inputs[3 * call + 1], rows, kvCols);
            const Act v = side.act(inputs[3 * call + 2], rows, kvCols);
            const Act out = side.empty(rows, qCols);
            const hip::Status status =
                side.backend().attention(**cache, 0, start, q, k, v, params, out);
            QVERIFY2(status.isOk(), status.message().c_str());
            outputs[gpu].push_back(side.read(out));
            start += rows;
        }
        QCOMPARE((*cache)->tokens(), capacity);
    }
    const double tolerance = c.kvType == hip::kernels::Half16::BF16 ? 2e-2 : 3e-3;
    for (size_t call = 0; call < std::size(calls); ++call) {
        const double error = relativeError(outputs[1][call], outputs[0][call]);
        QVERIFY2(error < tolerance, qPrintable(QString("call %1 (%2 rows): relative error %3")
                                                   .arg(call)
                                                   .arg(calls[call])
                                                   .arg(error)));
    }
}

void TestCudaKernels::attentionMassMatchesCpu_data() {
    QTest::addColumn<int>("headDim");
    QTest::newRow("head dim 64") << 64;
    QTest::newRow("head dim 96") << 96;
    QTest::newRow("head dim 128") << 128;
}

// The attention trace of dense decoding: per key, the probability averaged over heads.
void TestCudaKernels::attentionMassMatchesCpu() {
    QFETCH(int, headDim);
    const AttentionParams params = attentionParams(6, 2, headDim, headDim, false);
    const int64_t prompt = 700, capacity = 710, qCols = 6 * headDim, kvCols = 2 * headDim;
    const auto qp = randomValues(size_t(prompt * qCols), random_);
    const auto kp = randomValues(size_t(prompt * kvCols), random_);
    const auto vp = randomValues(size_t(prompt * kvCols), random_);
    std::vector<std::vector<float>> decode;
    for (int step = 0; step < 2; ++step)
        for (int64_t cols : {qCols, kvCols, kvCols})
            decode.push_back(randomValues(size_t(cols), random_));
    std::vector<float> mass[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(4));
        auto cache = side.backend().createKvCache(KvCacheShape{2, 2, headDim, capacity});
        QVERIFY(cache.isOk());
        for (int32_t layer = 0; layer < 2; ++layer) {
            const Act out = side.empty(prompt, qCols);
            QVERIFY(side.backend()
                        .attention(**cache, layer, 0, side.act(qp, prompt, qCols),
                                   side.act(kp, prompt, kvCols), side.act(vp, prompt, kvCols),
                                   params, out)
                        .isOk());
        }
        (*cache)->attentionMass = &mass[gpu];
        for (int step = 0; step < 2; ++step)
            for (int32_t layer = 0; layer < 2; ++layer) {
                const Act out = side.empty(1, qCols);
                QVERIFY(side.backend()
                            .attention(**cache, layer, prompt + step,
                                       side.act(decode[size_t(3 * step)], 1, qCols),
                                       side.act(decode[size_t(3 * step + 1)], 1, kvCols),
                                       side.act(decode[size_t(3 * step + 2)], 1, kvCols), params,
                                       out)
                            .isOk());
            }
    }
    QCOMPARE(mass[1].size(), mass[0].size());
    QCOMPARE(mass[0].size(), size_t(prompt + 2));
    float worst = 0.0f;
    for (size_t j = 0; j < mass[0].size(); ++j)
        worst = std::max(worst, std::abs(mass[1][j] - mass[0][j]));
    QVERIFY2(worst < 1e-4f, qPrintable(QString("largest difference %1").arg(worst)));
}

void TestCudaKernels::exactMassMatchesCpu_data() {
    QTest::addColumn<int>("headDim");
    QTest::addColumn<bool>("pruned");
    QTest::newRow("head dim 64, dense") << 64 << false;
    QTest::newRow("head dim 128, dense") << 128 << false;
    QTest::newRow("head dim 64, HiP") << 64 << true;
}

// The question's trace (KvCache::exactMass): after an untraced prompt, 24 query rows and then one
// decoded row, in two layers, add their exact probabilities averaged over heads (each row 1 per
// layer), as the CPU computes them: with HiP, keys beyond the 64-token window at the window's
// distance.
void TestCudaKernels::exactMassMatchesCpu() {
    QFETCH(int, headDim);
    QFETCH(bool, pruned);
    const hip::AttentionConfig config = smallGpuHipConfig();
    AttentionParams params = attentionParams(6, 2, headDim, headDim, false);
    params.config = pruned ? &config : nullptr;
    const int64_t prompt = 700, question = 24, capacity = 730;
    const int64_t qCols = 6 * headDim, kvCols = 2 * headDim, end = prompt + question + 1;
    const auto qp = randomValues(size_t(end * qCols), random_);
    const auto kp = randomValues(size_t(end * kvCols), random_);
    const auto vp = randomValues(size_t(end * kvCols), random_);
    std::vector<float> mass[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(4));
        auto cache = side.backend().createKvCache(KvCacheShape{2, 2, headDim, capacity});
        QVERIFY(cache.isOk());
        // Rows [first, first + count) of q, k and v through both layers.
        const auto attend = [&](int64_t first, int64_t count) {
            const auto rows = [&](const std::vector<float>& all, int64_t cols) {
                return side.act(std::vector<float>(all.begin() + first * cols,
                                                   all.begin() + (first + count) * cols),
                                count, cols);
            };
            for (int32_t layer = 0; layer < 2; ++layer)
                if (!side.backend()
                         .attention(**cache, layer, first, rows(qp, qCols), rows(kp, kvCols),
                                    rows(vp, kvCols), params, side.empty(count, qCols))
                         .isOk())
                    return false;
            return true;
        };
        QVERIFY(attend(0, prompt));
        (*cache)->exactMass = &mass[gpu];
        QVERIFY(attend(prompt, question));
        QVERIFY(attend(prompt + question, 1));
        QVERIFY(side.backend().takeError().isOk());
    }
    QCOMPARE(mass[1].size(), size_t(end));
    QCOMPARE(mass[0].size(), size_t(end));
    const double total = std::accumulate(mass[1].begin(), mass[1].end(), 0.0);
    QVERIFY2(std::abs(total - 2.0 * double(question + 1)) < 1e-3,
             qPrintable(QString("mass sums to %1").arg(total)));
    const double error = relativeError(mass[1], mass[0]);
    QVERIFY2(error < 1e-3, qPrintable(QString("relative error %1").arg(error)));
}

// A miniature forward pass of one token at a time: on the CUDA backend every step after the
// first replays the captured graph, with the token id and position read from device memory.
// q, k and v share one launch of the matrix-vector kernel (one x and format).
void TestCudaKernels::decodeGraphMatchesEager() {
    AttentionParams params;
    params.heads = 4;
    params.kvHeads = 2;
    params.headDim = 64;
    params.scale = 0.125f;
    params.rope.dims = 64;
    const int64_t E = 256, capacity = 64;
    const HostWeight table = randomWeight(GgmlType::Q8_0, 50, E, random_, 1.0f);
    const HostWeight gamma = randomWeight(GgmlType::F32, 1, E, random_, 1.0f);
    const HostWeight wq = randomWeight(GgmlType::Q4_K, 256, E, random_);
    const HostWeight wk = randomWeight(GgmlType::Q4_K, 128, E, random_);
    const HostWeight wv = randomWeight(GgmlType::Q4_K, 128, E, random_);
    const HostWeight wo = randomWeight(GgmlType::Q6_K, E, 256, random_);
    const int steps = 12;
    std::vector<float> logits[2];
    for (int gpu = 0; gpu < 2; ++gpu) {
        Side side(gpu ? cudaBackend() : hip::backend::createCpuBackend(2));
        hip::backend::Backend& b = side.backend();
        auto cache = b.createKvCache(KvCacheShape{1, 2, 64, capacity});
        QVERIFY(cache.isOk());
        const auto& tableW = side.weight(table);
        const auto& gammaW = side.weight(gamma);
        const auto& wqW = side.weight(wq);
        const auto& wkW = side.weight(wk);
        const auto& wvW = side.weight(wv);
        const auto& woW = side.weight(wo);
        const Act hidden = side.empty(1, E), normed = side.empty(1, E), q = side.empty(1, 256);
        const Act k = side.empty(1, 128), v = side.empty(1, 128), attn = side.empty(1, 256);
        const Act out = side.empty(1, E);
        for (int step = 0; step < steps; ++step) {
            b.embed(tableW, {int32_t((step * 7) % 50)}, hidden);
            b.rmsNorm(hidden, gammaW, 1e-5f, normed);
            b.matmul(normed, wqW, nullptr, q);
            b.matmul(normed, wkW, nullptr, k);
            b.matmul(normed, wvW, nullptr, v);
            QVERIFY(b.attention(**cache, 0, step, q, k, v, params, attn).isOk());
            b.matmul(attn, woW, nullptr, out);
            b.addInPlace(hidden, out);
            b.rmsNorm(hidden, gammaW, 1e-5f, normed);
            const std::vector<float> result = side.read(normed);
            logits[gpu].insert(logits[gpu].end(), result.begin(), result.end());
        }
        QVERIFY(b.takeError().isOk());
        if (gpu) {
            const auto& cuda = static_cast<hip::backend::CudaBackend&>(b);
            QCOMPARE(cuda.graphReplays(), uint64_t(steps - 1));
        }
    }
    // Each step's products quantize x to int8 on the GPU (see matmulMatchesCpu); three products
    // and two norms in a row compound that rounding to about 1-2e-2 on these random weights.
    const double error = relativeError(logits[1], logits[0]);
    QVERIFY2(error < 3e-2, qPrintable(QString("relative error %1").arg(error)));
}

void TestCudaKernels::argmaxMatchesMaxElement() {
    for (int64_t count : {1, 7, 49152, 128256}) {
        std::vector<float> values = randomValues(size_t(count), random_);
        if (count > 100) {
            values[size_t(count / 3)] = 9.0f; // a tie: the first one wins
            values[size_t(count / 2)] = 9.0f;
            values[10] = std::numeric_limits<float>::quiet_NaN();
        }
        const DeviceArray<float> device(values);
        DeviceArray<int32_t> result(1);
        result.setBytes(0xff); // -1: the kernel must write its answer
        QCOMPARE(hip::kernels::argmax(device.data(), count, result.data(), nullptr), cudaSuccess);
        const int32_t got = result.read()[0];
        if (count > 100) values[10] = -1e30f; // std::max_element's answer without the NaN
        const auto expected =
            int32_t(std::max_element(values.begin(), values.end()) - values.begin());
        QCOMPARE(got, expected);
    }
}

// HiP v1.1's tree mode has no CUDA kernels: attention refuses it, with the reason.
void TestCudaKernels::hipTreeIsRefused() {
    Side side(cudaBackend());
    auto cache = side.backend().createKvCache(KvCacheShape{1, 1, 64, 100000});
    QVERIFY(cache.isOk());
    auto config = hip::AttentionConfig::preset("hip-tree"); // no GPU kernels (hip-3k has them)
    QVERIFY(config.has_value());
    config->denseBelowTokens = 0;
    AttentionParams params;
    params.heads = 1;
    params.kvHeads = 1;
    params.headDim = 64;
    params.rope.dims = 64;
    params.config = &*config;
    const std::vector<float> row = randomValues(64, random_);
    const Act a = side.act(row, 1, 64), out = side.empty(1, 64);
    const hip::Status status = side.backend().attention(**cache, 0, 50000, a, a, a, params, out);
    QCOMPARE(status.code(), hip::ErrorCode::Unsupported);
    QVERIFY(status.message().find("CPU") != std::string::npos);
}

// Shapes without kernels are refused up front (the transformer asks before uploading weights),
// with the reason; the supported ones pass.
void TestCudaKernels::unsupportedShapesAreRefused() {
    Side side(cudaBackend());
    const auto shape = [](int32_t heads, int32_t kvHeads, int32_t headDim, int32_t ropeDims) {
        AttentionParams params;
        params.heads = heads;
        params.kvHeads = kvHeads;
        params.headDim = headDim;
        params.rope.dims = ropeDims;
        return params;
    };
    const hip::backend::Backend& b = side.backend();
    const hip::AttentionConfig dense;
    for (const AttentionParams& ok :
         {shape(32, 8, 128, 128), shape(9, 3, 64, 64), shape(16, 16, 96, 32), shape(4, 1, 32, 20)})
        QVERIFY(b.supportsAttention(ok, dense).isOk());
    const hip::Status headDim = b.supportsAttention(shape(32, 8, 80, 80), dense);
    QCOMPARE(headDim.code(), hip::ErrorCode::Unsupported);
    QVERIFY(headDim.message().find("head dimension 80") != std::string::npos);
    QCOMPARE(b.supportsAttention(shape(34, 2, 64, 64), dense).code(), hip::ErrorCode::Unsupported);
    QCOMPARE(b.supportsAttention(shape(8, 3, 64, 64), dense).code(), hip::ErrorCode::Unsupported);
    QCOMPARE(b.supportsAttention(shape(8, 2, 64, 66), dense).code(), hip::ErrorCode::Unsupported);
}

void TestCudaKernels::outOfMemoryIsAnError() {
    Side side(cudaBackend());
    auto cache = side.backend().createKvCache(KvCacheShape{80, 8, 128, 1ll << 26});
    QVERIFY(!cache.isOk());
    QCOMPARE(cache.status().code(), hip::ErrorCode::OutOfMemory);
    qInfo("%s", cache.message().c_str());
    QVERIFY(cache.message().find("free") != std::string::npos);
    // The backend still works afterwards.
    const std::vector<float> row = randomValues(64, random_);
    QCOMPARE(side.read(side.act(row, 1, 64)), row);
}

QTEST_GUILESS_MAIN(TestCudaKernels)
#include "test_cuda_kernels.moc"
