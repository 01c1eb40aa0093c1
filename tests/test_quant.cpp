// Block formats: the CPU dequantizers and quantizers against gguf-py's reference implementation
// (tests/data/quant_golden.bin, written by scripts/make_quant_golden.py), plus exhaustive half and
// bfloat16 conversion checks, round-trip error bounds and hand-computed edge blocks.

#include "quant/dequantize.h"
#include "quant/dot.h"
#include "quant/dot_q8.h"
#include "quant/ggml_type.h"
#include "quant/quantize.h"
#include "test_support.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace hip::quant;

namespace {

// The formats this engine decodes and encodes.
constexpr GgmlType kSupportedTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
};

// Those gguf-py can also quantize, so the golden file checks our quantizer's bytes.
constexpr GgmlType kGgufQuantizableTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
    GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
};

// ---- Golden file (layout documented in scripts/make_quant_golden.py) ----

struct GoldenRecord {
    std::string label;
    GgmlType type = GgmlType::F32;
    bool hasInput = false; // blocks are gguf-py's quantization of input
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<float> input;
    std::vector<uint8_t> blocks;
    std::vector<float> output;

    int64_t rowBytesOf() const { return static_cast<int64_t>(blocks.size()) / rows; }
};

struct GoldenFile {
    std::string generator;
    std::vector<GoldenRecord> records;
};

// Bounds-checked little-endian reads; a short or malformed file sets failed.
class ByteReader {
public:
    explicit ByteReader(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

    bool failed() const { return failed_; }
    bool atEnd() const { return pos_ == bytes_.size(); }

    uint32_t u32() {
        uint32_t v = 0;
        read(&v, sizeof v);
        return v;
    }
    std::string string(size_t size) {
        std::string s(available(size) ? size : 0, '\0');
        read(s.data(), s.size());
        return s;
    }
    template <typename T> std::vector<T> array(int64_t count) {
        const size_t size = static_cast<size_t>(count) * sizeof(T);
        std::vector<T> v(available(size) ? static_cast<size_t>(count) : 0);
        read(v.data(), v.size() * sizeof(T));
        return v;
    }

private:
    bool available(size_t size) {
        if (size > bytes_.size() - pos_) failed_ = true;
        return !failed_;
    }
    void read(void* dst, size_t size) {
        if (!available(size)) return;
        std::memcpy(dst, bytes_.data() + pos_, size);
        pos_ += size;
    }

    std::vector<uint8_t> bytes_;
    size_t pos_ = 0;
    bool failed_ = false;
};

// Returns an error message, empty on success.
QString loadGolden(const std::filesystem::path& path, GoldenFile& golden) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return "cannot open " + QString::fromStdString(path.string());
    ByteReader in(std::vector<uint8_t>(std::istreambuf_iterator<char>(file), {}));
    if (in.string(8) != "HIPQGOLD" || in.u32() != 1) return "not a version-1 quant golden file";
    golden.generator = in.string(in.u32());
    const uint32_t count = in.u32();
    for (uint32_t i = 0; i < count && !in.failed(); ++i) {
        GoldenRecord r;
        r.label = in.string(in.u32());
        const uint32_t rawType = in.u32();
        const uint32_t flags = in.u32();
        r.rows = in.u32();
        r.cols = in.u32();
        const auto traitsOfType = typeTraits(rawType);
        if (!traitsOfType || r.rows == 0 || r.cols % traitsOfType->blockSize != 0)
            return QString("record %1 (%2): bad type or shape").arg(i).arg(r.label.c_str());
        r.type = traitsOfType->type;
        r.hasInput = flags & 1u;
        if (r.hasInput) r.input = in.array<float>(r.rows * r.cols);
        r.blocks = in.array<uint8_t>(r.rows * static_cast<int64_t>(*rowBytes(r.type, r.cols)));
        r.output = in.array<float>(r.rows * r.cols);
        golden.records.push_back(std::move(r));
    }
    if (in.failed() || !in.atEnd()) return "truncated or oversized golden file";
    return {};
}

// typeName as a NUL-terminated string for Qt's C-string APIs (row names, messages).
QByteArray nameOf(GgmlType type) {
    const std::string_view name = typeName(type);
    return QByteArray(name.data(), static_cast<qsizetype>(name.size()));
}

// Byte offsets of a block's fp16 fields (d, and m or dmin where present).
std::vector<size_t> halfFieldOffsets(GgmlType type) {
    switch (type) {
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
        return {0, 2};
    case GgmlType::Q6_K:
        return {208};
    default:
        return {0};
    }
}

// Bit-identical, or both NaN: NaN payloads produced by arithmetic (inf * 0) are CPU-defined
// (x86 gives 0xFFC00000, Arm 0x7FC00000), so only NaN-ness is portable.
bool sameFloat(float a, float b) {
    return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b) ||
           (std::isnan(a) && std::isnan(b));
}

QString describeFloat(float f) {
    return QString("%1 (0x%2)")
        .arg(static_cast<double>(f), 0, 'g', 9)
        .arg(std::bit_cast<uint32_t>(f), 8, 16, QChar('0'));
}

// ---- Straightforward references for the scalar conversions ----

float referenceHalfToFloat(uint16_t h) {
    const bool negative = h & 0x8000;
    const int exponent = (h >> 10) & 0x1F;
    const int mantissa = h & 0x3FF;
    if (exponent == 0x1F) {
        if (mantissa == 0)
            return negative ? -std::numeric_limits<float>::infinity()
                            : std::numeric_limits<float>::infinity();
        // IEEE widening of a NaN keeps its payload in the top mantissa bits.
        return std::bit_cast<float>((negative ? 0x80000000u : 0u) | 0x7F800000u |
                                    (static_cast<uint32_t>(mantissa) << 13));
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return static_cast<float>(negative ? -magnitude : magnitude);
}

float referenceBf16ToFloat(uint16_t b) {
    const bool negative = b & 0x8000;
    const int exponent = (b >> 7) & 0xFF;
    const int mantissa = b & 0x7F;
    if (exponent == 0xFF) {
        if (mantissa == 0)
            return negative ? -std::numeric_limits<float>::infinity()
                            : std::numeric_limits<float>::infinity();
        return std::bit_cast<float>((negative ? 0x80000000u : 0u) | 0x7F800000u |
                                    (static_cast<uint32_t>(mantissa) << 16));
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -133) : std::ldexp(128 + mantissa, exponent - 134);
    return static_cast<float>(negative ? -magnitude : magnitude);
}

// Checks float->narrow rounding around every boundary: for each pair of adjacent non-negative
// finite codes (lo, lo+1), the exact midpoint rounds to the even code and its float neighbours
// to the nearer code; the largest finite code's upper neighbour is `overflowValue` (the code after
// it is infinity). Both signs are checked.
template <typename Narrow, typename Widen>
void checkRoundingBoundaries(Narrow toNarrow, Widen toFloat, uint16_t largestFinite,
                             double overflowValue) {
    for (uint32_t lo = 0; lo <= largestFinite; ++lo) {
        const auto hi = static_cast<uint16_t>(lo + 1);
        const double low = toFloat(static_cast<uint16_t>(lo));
        const double high = lo == largestFinite ? overflowValue : double(toFloat(hi));
        const auto midpoint = static_cast<float>((low + high) / 2);
        QVERIFY(static_cast<double>(midpoint) == (low + high) / 2); // exact in fp32
        const uint16_t even = (lo & 1) ? hi : static_cast<uint16_t>(lo);
        const float above = std::nextafter(midpoint, std::numeric_limits<float>::infinity());
        const float below = std::nextafter(midpoint, 0.0f);
        for (const uint16_t sign : {uint16_t(0), uint16_t(0x8000)}) {
            const float s = sign ? -1.0f : 1.0f;
            QCOMPARE(toNarrow(s * midpoint), uint16_t(even | sign));
            QCOMPARE(toNarrow(s * above), uint16_t(hi | sign));
            QCOMPARE(toNarrow(s * below), uint16_t(lo | sign));
        }
    }
}

// ---- Round-trip data ----

// Gaussian weights in 256-element super-blocks of magnitude 10^[-1, 3] (where every fp16 scale is
// normal, so the analytic bounds below apply); each 32-element sub-block is scaled by [0.25, 1]
// and a quarter of them are shifted off zero, as real weight rows vary.
std::vector<float> roundTripData(int64_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    std::vector<float> data(static_cast<size_t>(count));
    for (int64_t super = 0; super < count; super += 256) {
        const float magnitude = std::pow(10.0f, 4.0f * unit(rng) - 1.0f);
        for (int64_t sub = super; sub < super + 256; sub += 32) {
            const float scale = magnitude * (0.25f + 0.75f * unit(rng));
            const float shift =
                unit(rng) < 0.25f ? magnitude * (unit(rng) < 0.5f ? 1.5f : -1.5f) : 0.0f;
            for (int64_t i = sub; i < sub + 32; ++i)
                data[static_cast<size_t>(i)] = gauss(rng) * scale + shift;
        }
    }
    return data;
}

// Per-format error bounds for roundTripData. `maxError` bounds |x - y| relative to the largest |x|
// of the element's block (for F16/BF16: relative to |x|, or to 2^-14, fp16's smallest normal, when
// |x| is smaller); `rmsError` bounds the RMS over blocks of sqrt(sum (x-y)^2 / sum x^2).
struct ErrorBound {
    GgmlType type;
    double maxError;
    double rmsError;
};

// The 32-element formats' maxError bounds are analytic: half a step (amax/127, range/15,
// range/31) plus the fp16 rounding of d (and m), at most 2^-11 relative; Q4_0/Q5_0 lose a whole
// step d = amax/8 (amax/16) on the end opposite the largest magnitude, whose top level is clipped.
// The K-quant maxError bounds and the block formats' RMS bounds have no closed form (the K-quant
// search picks the scales; RMS depends on the data): they are measured values plus about 25%.
constexpr ErrorBound kErrorBounds[] = {
    {GgmlType::F32, 0.0, 0.0},
    {GgmlType::F16, 0x1p-11, 0x1p-11},
    {GgmlType::BF16, 0x1p-8, 0x1p-8},
    {GgmlType::Q8_0, (0.5 + 127 * 0x1p-11) / 127, 0.0065},
    {GgmlType::Q4_0, 0.125 * (1 + 7 * 0x1p-11), 0.1},
    {GgmlType::Q4_1, (2.0 / 15) * (0.5 + 15 * 0x1p-11) + 0x1p-11, 0.085},
    {GgmlType::Q5_0, 0.0625 * (1 + 15 * 0x1p-11), 0.05},
    {GgmlType::Q5_1, (2.0 / 31) * (0.5 + 31 * 0x1p-11) + 0x1p-11, 0.042},
    {GgmlType::Q4_K, 0.08, 0.067},
    {GgmlType::Q5_K, 0.04, 0.033},
    {GgmlType::Q6_K, 0.02, 0.019},
};

} // namespace

class TestQuant : public QObject {
    Q_OBJECT

private:
    GoldenFile golden_;

    void addGoldenRows(bool quantizedOnly) {
        QTest::addColumn<int>("record");
        for (size_t i = 0; i < golden_.records.size(); ++i)
            if (!quantizedOnly || golden_.records[i].hasInput)
                QTest::newRow(golden_.records[i].label.c_str()) << static_cast<int>(i);
    }

private slots:
    void initTestCase() {
        const QString error = loadGolden(hiptest::dataDir() / "quant_golden.bin", golden_);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        qInfo("golden data from %s, %zu records", golden_.generator.c_str(),
              golden_.records.size());
    }

    void goldenCoversEveryFormat() {
        auto covered = [this](GgmlType type, bool quantized) {
            for (const GoldenRecord& r : golden_.records)
                if (r.type == type && (r.hasInput || !quantized)) return true;
            return false;
        };
        for (const GgmlType type : kSupportedTypes)
            QVERIFY2(covered(type, false), nameOf(type).constData());
        for (const GgmlType type : kGgufQuantizableTypes)
            QVERIFY2(covered(type, true), nameOf(type).constData());
    }

    void dequantizeMatchesGguf_data() { addGoldenRows(false); }
    void dequantizeMatchesGguf() {
        QFETCH(int, record);
        const GoldenRecord& r = golden_.records[static_cast<size_t>(record)];
        std::vector<float> row(static_cast<size_t>(r.cols));
        for (int64_t y = 0; y < r.rows; ++y) {
            dequantizeRow(r.type, r.blocks.data() + y * r.rowBytesOf(), row.data(), r.cols);
            for (int64_t x = 0; x < r.cols; ++x) {
                const float expected = r.output[static_cast<size_t>(y * r.cols + x)];
                const float actual = row[static_cast<size_t>(x)];
                if (!sameFloat(actual, expected))
                    QFAIL(qPrintable(QString("row %1 element %2: got %3, gguf-py %4")
                                         .arg(y)
                                         .arg(x)
                                         .arg(describeFloat(actual), describeFloat(expected))));
            }
        }
    }

    void quantizeMatchesGguf_data() { addGoldenRows(true); }
    void quantizeMatchesGguf() {
        QFETCH(int, record);
        const GoldenRecord& r = golden_.records[static_cast<size_t>(record)];
        const int64_t rowBytesCount = r.rowBytesOf();
        const int64_t blockBytes = traits(r.type).blockBytes;
        std::vector<uint8_t> row(static_cast<size_t>(rowBytesCount));
        for (int64_t y = 0; y < r.rows; ++y) {
            quantizeRow(r.type, r.input.data() + y * r.cols, row.data(), r.cols);
            const uint8_t* expected = r.blocks.data() + y * rowBytesCount;
            for (int64_t i = 0; i < rowBytesCount; ++i)
                if (row[static_cast<size_t>(i)] != expected[i])
                    QFAIL(qPrintable(QString("row %1 block %2 byte %3: got 0x%4, gguf-py 0x%5")
                                         .arg(y)
                                         .arg(i / blockBytes)
                                         .arg(i % blockBytes)
                                         .arg(row[static_cast<size_t>(i)], 2, 16, QChar('0'))
                                         .arg(expected[i], 2, 16, QChar('0'))));
        }
    }

    void canQuantizeExactlyTheSupportedTypes() {
        for (const GgmlType type : kSupportedTypes)
            QVERIFY2(canQuantize(type), nameOf(type).constData());
        QVERIFY(!canQuantize(GgmlType::Q2_K));
        QVERIFY(!canQuantize(GgmlType::Q8_1));
        QVERIFY(!canQuantize(GgmlType::IQ4_NL));
    }

    // The CPU decode products' dot kernels (SIMD where the CPU has it, and the portable path)
    // against the dequantized row, summed in double: only fp32 summation order may differ.
    void dotRowMatchesDequantizedRow_data() { roundTripWithinBounds_data(); }
    void dotRowMatchesDequantizedRow() {
        QFETCH(int, bound);
        const GgmlType type = kErrorBounds[bound].type;
        const int64_t block = traits(type).blockSize;
        std::mt19937 random(77);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (int64_t cols : {int64_t(256), int64_t(768), int64_t(576), int64_t(36)}) {
            if (cols % block != 0) continue;
            std::vector<float> w(static_cast<size_t>(cols)), x(static_cast<size_t>(cols));
            for (size_t i = 0; i < w.size(); ++i) {
                w[i] = normal(random);
                x[i] = normal(random);
            }
            std::vector<uint8_t> encoded(static_cast<size_t>(*rowBytes(type, cols)));
            quantizeRow(type, w.data(), encoded.data(), cols);
            std::vector<float> decoded(static_cast<size_t>(cols));
            dequantizeRow(type, encoded.data(), decoded.data(), cols);
            double expected = 0.0, magnitude = 0.0;
            for (size_t i = 0; i < decoded.size(); ++i) {
                expected += double(decoded[i]) * x[i];
                magnitude += std::abs(double(decoded[i]) * x[i]);
            }
            for (float got : {dotRow(type, encoded.data(), x.data(), cols),
                              dotRowPortable(type, encoded.data(), x.data(), cols)})
                QVERIFY2(std::abs(got - expected) <= 1e-5 * magnitude,
                         qPrintable(QString("%1 columns: %2 against %3")
                                        .arg(cols)
                                        .arg(double(got))
                                        .arg(expected)));
        }
    }

    // The integer decode kernels against the dequantized row times the quantized activations
    // (the only approximation is the activations' rounding, which the second check bounds: at most
    // half a step of 1/127 of each block's largest magnitude per element).
    void dotRowQ8MatchesQuantizedActivations() {
        std::mt19937 random(78);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q4_K, GgmlType::Q6_K}) {
            if (!hasQ8Dot(type)) QSKIP("no integer dot kernels on this CPU");
            for (int64_t cols : {int64_t(256), int64_t(768), int64_t(1536)}) {
                std::vector<float> w(static_cast<size_t>(cols)), x(static_cast<size_t>(cols));
                for (size_t i = 0; i < w.size(); ++i) {
                    w[i] = normal(random);
                    x[i] = normal(random) * (i % 97 == 0 ? 20.0f : 1.0f); // some outliers
                }
                std::vector<uint8_t> encoded(static_cast<size_t>(*rowBytes(type, cols)));
                quantizeRow(type, w.data(), encoded.data(), cols);
                std::vector<float> decoded(static_cast<size_t>(cols));
                dequantizeRow(type, encoded.data(), decoded.data(), cols);
                Q8Activations q8;
                quantizeActivations(x.data(), cols, q8);
                double expected = 0.0, exact = 0.0, magnitude = 0.0, roundingBound = 0.0;
                for (int64_t i = 0; i < cols; ++i) {
                    const size_t b = size_t(i / kQ8Block);
                    const double xq = double(q8.scales[b]) * q8.quants[size_t(i)];
                    expected += double(decoded[size_t(i)]) * xq;
                    exact += double(decoded[size_t(i)]) * x[size_t(i)];
                    magnitude += std::abs(double(decoded[size_t(i)]) * xq);
                    roundingBound += std::abs(double(decoded[size_t(i)])) * q8.scales[b] * 0.5;
                }
                const float got = dotRowQ8(type, encoded.data(), q8, cols);
                QVERIFY2(std::abs(got - expected) <= 1e-5 * magnitude,
                         qPrintable(QString("%1 columns: %2 against %3")
                                        .arg(cols)
                                        .arg(double(got))
                                        .arg(expected)));
                QVERIFY(std::abs(expected - exact) <= roundingBound * 1.0001);
            }
        }
    }

    // Every fp16 bit pattern as a block scale of the default model's formats: the dot kernels'
    // scale conversion gives what halfToFloat gives (x picks out one quant, so the product is
    // exact: Q8_0 gives d * 1, Q4_1 gives d * 1 + m with m = d; an infinite scale times the zero
    // quants gives NaN, as the dequantized row does).
    void dotRowDecodesEveryHalfScale() {
        std::vector<float> x(32, 0.0f);
        x[0] = 1.0f;
        uint8_t q8[34] = {}, q41[20] = {};
        q8[2] = 1;
        q41[4] = 1;
        for (uint32_t bits = 0; bits <= 0xFFFFu; ++bits) {
            const auto h = static_cast<uint16_t>(bits);
            std::memcpy(q8, &h, 2);
            std::memcpy(q41, &h, 2);
            std::memcpy(q41 + 2, &h, 2);
            const float d = halfToFloat(h);
            const float gotQ8 = dotRow(GgmlType::Q8_0, q8, x.data(), 32);
            const float gotQ41 = dotRow(GgmlType::Q4_1, q41, x.data(), 32);
            if (!std::isfinite(d)) {
                QVERIFY2(std::isnan(gotQ8) && std::isnan(gotQ41),
                         qPrintable(QString::number(bits, 16)));
                continue;
            }
            QVERIFY2(gotQ8 == d, qPrintable(QString("Q8_0 scale 0x%1: %2, expected %3")
                                                .arg(bits, 4, 16, QChar('0'))
                                                .arg(double(gotQ8))
                                                .arg(double(d))));
            QVERIFY2(gotQ41 == d + d, qPrintable(QString("Q4_1 scale 0x%1: %2, expected %3")
                                                     .arg(bits, 4, 16, QChar('0'))
                                                     .arg(double(gotQ41))
                                                     .arg(double(d + d))));
        }
    }

    void roundTripWithinBounds_data() {
        QTest::addColumn<int>("bound");
        for (size_t i = 0; i < std::size(kErrorBounds); ++i)
            QTest::newRow(nameOf(kErrorBounds[i].type).constData()) << static_cast<int>(i);
    }
    void roundTripWithinBounds() {
        QFETCH(int, bound);
        const ErrorBound& b = kErrorBounds[bound];
        const int64_t count = 64 * 256;
        const int64_t block = std::max<int64_t>(traits(b.type).blockSize, 32);
        const std::vector<float> x = roundTripData(count, 1234);
        std::vector<uint8_t> encoded(static_cast<size_t>(*rowBytes(b.type, count)));
        std::vector<float> y(static_cast<size_t>(count));
        quantizeRow(b.type, x.data(), encoded.data(), count);
        dequantizeRow(b.type, encoded.data(), y.data(), count);

        const bool elementwise = traits(b.type).blockSize == 1;
        double worst = 0.0;
        double sumRelativeSquares = 0.0;
        for (int64_t start = 0; start < count; start += block) {
            double amax = 0.0;
            double signal = 0.0;
            double noise = 0.0;
            for (int64_t i = start; i < start + block; ++i) {
                const double xi = x[static_cast<size_t>(i)];
                const double err = std::fabs(xi - y[static_cast<size_t>(i)]);
                amax = std::max(amax, std::fabs(xi));
                signal += xi * xi;
                noise += err * err;
                if (elementwise) worst = std::max(worst, err / std::max(std::fabs(xi), 0x1p-14));
            }
            if (!elementwise) {
                for (int64_t i = start; i < start + block; ++i)
                    worst = std::max(
                        worst,
                        std::fabs(x[static_cast<size_t>(i)] - y[static_cast<size_t>(i)]) / amax);
            }
            sumRelativeSquares += noise / signal;
        }
        const double rms = std::sqrt(sumRelativeSquares / static_cast<double>(count / block));
        qInfo("%s: max error %.5f of block amax (bound %.5f), relative RMS %.5f (bound %.5f)",
              nameOf(b.type).constData(), worst, b.maxError, rms, b.rmsError);
        QVERIFY(worst <= b.maxError);
        QVERIFY(rms <= b.rmsError);
    }

    void halfToFloatExhaustive() {
        for (uint32_t h = 0; h <= 0xFFFF; ++h) {
            const auto half = static_cast<uint16_t>(h);
            QCOMPARE(std::bit_cast<uint32_t>(halfToFloat(half)),
                     std::bit_cast<uint32_t>(referenceHalfToFloat(half)));
        }
    }

    void floatToHalfExhaustive() {
        // Every half survives a round trip; NaNs come back quiet with the same sign and payload.
        for (uint32_t h = 0; h <= 0xFFFF; ++h) {
            const auto half = static_cast<uint16_t>(h);
            const bool nan = (half & 0x7C00) == 0x7C00 && (half & 0x3FF) != 0;
            QCOMPARE(floatToHalf(halfToFloat(half)), uint16_t(nan ? half | 0x200 : half));
        }
        checkRoundingBoundaries(floatToHalf, referenceHalfToFloat, 0x7BFF, 65536.0);
        if (QTest::currentTestFailed()) return;
        // Beyond the boundaries: overflow to infinity, underflow to a signed zero.
        QCOMPARE(floatToHalf(std::numeric_limits<float>::max()), uint16_t(0x7C00));
        QCOMPARE(floatToHalf(-1e30f), uint16_t(0xFC00));
        QCOMPARE(floatToHalf(std::numeric_limits<float>::infinity()), uint16_t(0x7C00));
        QCOMPARE(floatToHalf(std::numeric_limits<float>::denorm_min()), uint16_t(0x0000));
        QCOMPARE(floatToHalf(-1e-30f), uint16_t(0x8000));
        // Float NaNs: quiet, top payload bits kept, sign kept; a signalling NaN stays a NaN.
        QCOMPARE(floatToHalf(std::bit_cast<float>(0x7FC00000u)), uint16_t(0x7E00));
        QCOMPARE(floatToHalf(std::bit_cast<float>(0xFFC00001u)), uint16_t(0xFE00));
        QCOMPARE(floatToHalf(std::bit_cast<float>(0x7F800001u)), uint16_t(0x7E00));
        QCOMPARE(floatToHalf(std::bit_cast<float>(0x7FBFE000u)), uint16_t(0x7FFF));
    }

    void bf16ToFloatExhaustive() {
        for (uint32_t b = 0; b <= 0xFFFF; ++b) {
            const auto bf16 = static_cast<uint16_t>(b);
            QCOMPARE(std::bit_cast<uint32_t>(bf16ToFloat(bf16)),
                     std::bit_cast<uint32_t>(referenceBf16ToFloat(bf16)));
        }
    }

    void floatToBf16Exhaustive() {
        for (uint32_t b = 0; b <= 0xFFFF; ++b) {
            const auto bf16 = static_cast<uint16_t>(b);
            const bool nan = (bf16 & 0x7F80) == 0x7F80 && (bf16 & 0x7F) != 0;
            QCOMPARE(floatToBf16(bf16ToFloat(bf16)), uint16_t(nan ? bf16 | 0x40 : bf16));
        }
        checkRoundingBoundaries(floatToBf16, referenceBf16ToFloat, 0x7F7F, std::ldexp(1.0, 128));
        if (QTest::currentTestFailed()) return;
        QCOMPARE(floatToBf16(std::numeric_limits<float>::max()), uint16_t(0x7F80));
        QCOMPARE(floatToBf16(std::bit_cast<float>(0x7F800001u)), uint16_t(0x7FC0));
        QCOMPARE(floatToBf16(std::bit_cast<float>(0xFFFFFFFFu)), uint16_t(0xFFFF));
    }

    void zeroBlocksDecodeToZero() {
        for (const GgmlType type : kSupportedTypes) {
            const int64_t count = 256;
            const std::vector<uint8_t> zeros(static_cast<size_t>(*rowBytes(type, count)), 0);
            std::vector<float> out(static_cast<size_t>(count), 1.0f);
            dequantizeRow(type, zeros.data(), out.data(), count);
            for (const float v : out)
                QVERIFY2(v == 0.0f, nameOf(type).constData());
        }
    }

    // Every scale at fp16's largest finite value (65504) and every quant at the end that gives the
    // largest magnitude; all elements of the block decode to the same value, computed by hand.
    void largestMagnitudeBlocks_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<float>("expected");
        const QByteArray maxHalf("\xFF\x7B", 2);
        const QByteArray minusMaxHalf("\xFF\xFB", 2);
        auto row = [](GgmlType type, const QByteArray& block, float expected) {
            QTest::newRow(nameOf(type).constData()) << static_cast<int>(type) << block << expected;
        };
        row(GgmlType::F16, maxHalf, 65504.0f);
        row(GgmlType::BF16, QByteArray("\x7F\x7F", 2), std::bit_cast<float>(0x7F7F0000u));
        row(GgmlType::Q8_0, maxHalf + QByteArray(32, '\x80'), -128.0f * 65504);
        row(GgmlType::Q4_0, maxHalf + QByteArray(16, '\x00'), -8.0f * 65504);
        row(GgmlType::Q4_1, maxHalf + maxHalf + QByteArray(16, '\xFF'), 16.0f * 65504);
        row(GgmlType::Q5_0, maxHalf + QByteArray(20, '\x00'), -16.0f * 65504);
        row(GgmlType::Q5_1, maxHalf + maxHalf + QByteArray(20, '\xFF'), 32.0f * 65504);
        // K-quants: sub-scales and mins 63, q at its maximum, dmin = -65504 so the min adds.
        row(GgmlType::Q4_K, maxHalf + minusMaxHalf + QByteArray(12 + 128, '\xFF'),
            63.0f * 16 * 65504);
        row(GgmlType::Q5_K, maxHalf + minusMaxHalf + QByteArray(12 + 32 + 128, '\xFF'),
            63.0f * 32 * 65504);
        row(GgmlType::Q6_K, QByteArray(192, '\x00') + QByteArray(16, '\x80') + maxHalf,
            -128.0f * -32 * 65504);
    }
    void largestMagnitudeBlocks() {
        QFETCH(int, type);
        QFETCH(QByteArray, block);
        QFETCH(float, expected);
        const auto ggmlType = static_cast<GgmlType>(type);
        const int64_t count = traits(ggmlType).blockSize;
        QCOMPARE(static_cast<int64_t>(block.size()), traits(ggmlType).blockBytes);
        std::vector<float> out(static_cast<size_t>(count));
        dequantizeRow(ggmlType, block.constData(), out.data(), count);
        for (const float v : out) // bitwise: QCOMPARE on floats is fuzzy
            QCOMPARE(std::bit_cast<uint32_t>(v), std::bit_cast<uint32_t>(expected));
    }

    // A scale of -0.0 multiplies to signed zeros; whatever the quants, nothing else may appear.
    void negativeZeroScalesDecodeToZero() {
        std::mt19937 rng(7);
        for (const GgmlType type : kSupportedTypes) {
            if (traits(type).blockSize == 1) continue;
            const int64_t count = traits(type).blockSize;
            std::vector<uint8_t> block(static_cast<size_t>(traits(type).blockBytes));
            for (uint8_t& byte : block)
                byte = static_cast<uint8_t>(rng());
            for (const size_t offset : halfFieldOffsets(type)) {
                block[offset] = 0x00;
                block[offset + 1] = 0x80;
            }
            std::vector<float> out(static_cast<size_t>(count), 1.0f);
            dequantizeRow(type, block.data(), out.data(), count);
            for (const float v : out)
                QVERIFY2(v == 0.0f, nameOf(type).constData());
        }
    }

    // Quantizing zeros (of either sign) gives blocks that decode to zeros.
    void zeroRowsQuantizeToZero() {
        for (const GgmlType type : kSupportedTypes) {
            for (const float zero : {0.0f, -0.0f}) {
                const int64_t count = 256;
                const std::vector<float> x(static_cast<size_t>(count), zero);
                std::vector<uint8_t> encoded(static_cast<size_t>(*rowBytes(type, count)));
                std::vector<float> y(static_cast<size_t>(count), 1.0f);
                quantizeRow(type, x.data(), encoded.data(), count);
                dequantizeRow(type, encoded.data(), y.data(), count);
                for (const float v : y)
                    QVERIFY2(v == 0.0f, nameOf(type).constData());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestQuant)
#include "test_quant.moc"
