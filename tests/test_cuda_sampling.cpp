// The sampling kernel against the CPU sampler (runtime::pickToken): the same token for the same
// logits, options and random number, on random logits of several vocabulary sizes (odd ones
// included) and many option combinations; greedy is the argmax, penalties land in place, ties
// rank by id, results repeat run to run, and CudaBackend::sampleToken gives the CPU's tokens.
// Skipped when there is no GPU.

#include "test_cuda_support.h"
#include "test_support.h"

#include "kernels/sampling.h"
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>

using hip::SamplerOptions;
using hip::runtime::pickToken;
using namespace cudatest;

namespace {

// One row of logits and its penalized ids in device memory, uploaded again before every run
// (the kernel applies the penalty in place).
class DeviceRow {
public:
    explicit DeviceRow(size_t count) : logits_(count), ids_(kMaxIds), token_(1) {}

    // The kernel's token; `logits` becomes the row as the kernel left it.
    int32_t sample(std::vector<float>& logits, std::span<const int32_t> recent,
                   const SamplerOptions& options, double u) {
        QTEST_ASSERT(logits.size() == logits_.size());
        const std::span<const int32_t> penalized = hip::runtime::penalizedTokens(recent, options);
        logits_.write(logits);
        ids_.write(penalized);
        const hip::kernels::SamplingParams params{options.temperature, options.topK, options.topP,
                                                  options.minP, options.repetitionPenalty};
        const cudaError_t launched =
            hip::kernels::sampleToken(logits_.data(), int64_t(logits.size()), ids_.data(),
                                      int32_t(penalized.size()), params, u, token_.data(), nullptr);
        QTEST_ASSERT(launched == cudaSuccess);
        const int32_t token = token_.read()[0];
        logits = logits_.read();
        return token;
    }

private:
    static constexpr size_t kMaxIds = 4096;
    DeviceArray<float> logits_;
    DeviceArray<int32_t> ids_;
    DeviceArray<int32_t> token_;
};

// Whether the CPU's cumulative probability at `token` is within `margin` of the pick's target,
// u * the kept mass: the two sum probabilities in different orders, so near a boundary either
// neighbour is right. The kept candidates may differ the same way where top-p or min-p decides
// within rounding, so the options with those moved by `margin` count too.
bool withinRoundingOf(const std::vector<float>& logits, std::span<const int32_t> recent,
                      const SamplerOptions& o, double u, int32_t token, double margin) {
    if (o.temperature <= 0.0f) return false;
    std::vector<float> penalized = logits;
    pickToken(penalized, recent, o, u);
    std::vector<SamplerOptions> variants = {o};
    for (double sign : {-1.0, 1.0}) {
        SamplerOptions changed = o;
        changed.topP = float(double(o.topP) + sign * margin);
        if (o.topP < 1.0f && changed.topP < 1.0f) variants.push_back(changed);
        changed = o;
        changed.minP = float(double(o.minP) * (1.0 + sign * margin));
        if (o.minP > 0.0f) variants.push_back(changed);
    }
    for (const SamplerOptions& variant : variants) {
        const hip::runtime::Candidates c = hip::runtime::keptCandidates(penalized, variant);
        const double target =
            u * std::accumulate(c.probabilities.begin(), c.probabilities.end(), 0.0);
        double cumulative = 0.0;
        for (size_t i = 0; i < c.ids.size(); ++i) {
            const double before = cumulative;
            cumulative += c.probabilities[i];
            if (c.ids[i] == token && before - margin <= target && target <= cumulative + margin)
                return true;
        }
    }
    return false;
}

struct Comparison {
    int samples = 0;
    int nearBoundary = 0;
    QStringList failures;
};

void compareWithCpu(DeviceRow& row, const std::vector<float>& logits,
                    std::span<const int32_t> recent, const SamplerOptions& o, double u,
                    Comparison& result) {
    std::vector<float> cpuLogits = logits, gpuLogits = logits;
    const int32_t expected = pickToken(cpuLogits, recent, o, u);
    const int32_t got = row.sample(gpuLogits, recent, o, u);
    ++result.samples;
    if (gpuLogits != cpuLogits) result.failures << "the penalized logits differ";
    if (got == expected) return;
    if (got >= 0 && size_t(got) < logits.size() &&
        withinRoundingOf(logits, recent, o, u, got, 1e-5)) {
        ++result.nearBoundary;
        return;
    }
    result.failures << QString("vocabulary %1, T %2, top-k %3, top-p %4, min-p %5, penalty %6, "
                               "u %7: CPU %8, GPU %9")
                           .arg(logits.size())
                           .arg(double(o.temperature))
                           .arg(o.topK)
                           .arg(double(o.topP))
                           .arg(double(o.minP))
                           .arg(double(o.repetitionPenalty))
                           .arg(u, 0, 'g', 17)
                           .arg(expected)
                           .arg(got);
}

} // namespace

class TestCudaSampling : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { CUDATEST_REQUIRE_GPU(); }

    void matchesCpuPick_data();
    void matchesCpuPick();
    void greedyIsArgmax();
    void penaltyAppliesOncePerToken();
    void tiesRankById();
    void nanLogitsAreNeverChosen();
    void repeatsRunToRun();
    void backendSamplesLikeCpu();

private:
    std::mt19937 random_{20261203};
};

void TestCudaSampling::matchesCpuPick_data() {
    QTest::addColumn<int>("vocabulary");
    for (int vocabulary : {1, 7, 1000, 4099, 8193, 32001, 49152, 128256, 151936})
        QTest::newRow(qPrintable(QString::number(vocabulary))) << vocabulary;
}

// Random options around the usual ones (and the extremes: top-k 1 and above the vocabulary, the
// whole vocabulary with top-p alone, min-p above 1), logits spread like a model's or flat, with
// and without ties, u at 0 and just below 1 as well as random.
void TestCudaSampling::matchesCpuPick() {
    QFETCH(int, vocabulary);
    DeviceRow row{size_t(vocabulary)};
    const float temperatures[] = {0.0f, 0.3f, 0.7f, 1.0f, 1.5f, 3.0f};
    const int32_t topKs[] = {0, 1, 2, 40, 100, 1024, 1025, 5000, 9000, 200000};
    const float topPs[] = {1.0f, 0.95f, 0.9f, 0.5f, 0.999f, 0.0f};
    const float minPs[] = {0.0f, 0.05f, 0.1f, 0.01f, 0.0001f, 1.5f};
    const float penalties[] = {1.0f, 1.1f, 1.3f, 0.9f};
    auto any = [&](const auto& values) {
        return values[std::uniform_int_distribution<size_t>(0, std::size(values) - 1)(random_)];
    };
    Comparison comparison;
    const int logitSets = vocabulary > 100000 ? 12 : 24;
    for (int set = 0; set < logitSets; ++set) {
        std::vector<float> logits =
            randomValues(size_t(vocabulary), random_, set % 3 == 0 ? 0.5f : 3.0f);
        if (set % 4 == 1) // ties: a third of the logits on a coarse grid
            for (size_t i = 0; i < logits.size(); i += 3)
                logits[i] = std::round(logits[i] * 2.0f) / 2.0f;
        std::vector<int32_t> recent(80);
        for (int32_t& id : recent)
            id = std::uniform_int_distribution<int32_t>(-3, vocabulary + 3)(random_);
        recent.push_back(recent[5]);
        for (int draw = 0; draw < 16; ++draw) {
            const SamplerOptions o = hiptest::samplerOptions(
                any(temperatures), any(topKs), any(topPs), any(minPs), any(penalties), 32);
            double u = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
            if (draw == 0) u = 0.0;
            if (draw == 1) u = std::nextafter(1.0, 0.0);
            compareWithCpu(row, logits, recent, o, u, comparison);
        }
    }
    if (!comparison.failures.isEmpty()) QFAIL(qPrintable(comparison.failures.join("\n")));
    qInfo("%d samples, %d within rounding of a boundary", comparison.samples,
          comparison.nearBoundary);
    QVERIFY(comparison.nearBoundary * 100 <= comparison.samples);
}

void TestCudaSampling::greedyIsArgmax() {
    for (int vocabulary : {1, 31, 49152, 128256}) {
        DeviceRow row{size_t(vocabulary)};
        for (int set = 0; set < 8; ++set) {
            std::vector<float> logits = randomValues(size_t(vocabulary), random_, 3.0f);
            if (vocabulary > 100) { // the first of equal maxima wins
                logits[size_t(vocabulary / 2)] = 20.0f;
                logits[size_t(vocabulary / 3)] = 20.0f;
            }
            const std::vector<int32_t> recent = {int32_t(vocabulary / 3), 0, 0};
            for (float penalty : {1.0f, 1.5f}) {
                const SamplerOptions o = hiptest::samplerOptions(0.0f, 40, 0.95f, 0.05f, penalty);
                std::vector<float> gpu = logits, cpu = logits;
                const int32_t token = row.sample(gpu, recent, o, 0.5);
                pickToken(cpu, recent, o, 0.5); // only for the penalized logits
                QCOMPARE(gpu, cpu);
                QCOMPARE(token, int32_t(std::max_element(cpu.begin(), cpu.end()) - cpu.begin()));
            }
        }
    }
}

// Each distinct id once, ids outside the vocabulary ignored, only the window's ids; negative
// logits are pushed further down.
void TestCudaSampling::penaltyAppliesOncePerToken() {
    const int vocabulary = 5003;
    DeviceRow row{size_t(vocabulary)};
    std::vector<float> logits = randomValues(size_t(vocabulary), random_, 3.0f);
    std::vector<int32_t> recent = {7, 9, -1, vocabulary, 7, 7, 100, 4000, 9, 5002, 0};
    for (int i = 0; i < 3000; ++i)
        recent.push_back(std::uniform_int_distribution<int32_t>(0, 300)(random_));
    for (int32_t window : {1, 4, 11, 4000}) {
        const SamplerOptions o = hiptest::samplerOptions(0.8f, 40, 0.95f, 0.05f, 1.7f, window);
        std::vector<float> gpu = logits, cpu = logits;
        row.sample(gpu, recent, o, 0.25);
        pickToken(cpu, recent, o, 0.25);
        QCOMPARE(gpu, cpu);
        QVERIFY(gpu != logits);
    }
}

// Equal logits rank by id: top-k takes the lowest ids, and the pick walks them in id order. The
// values of u keep u * the kept mass away from multiples of the equal probabilities.
void TestCudaSampling::tiesRankById() {
    for (int vocabulary : {10, 4099, 128256}) {
        DeviceRow row{size_t(vocabulary)};
        for (float value : {0.0f, -2.5f, 3.0f}) {
            std::vector<float> flat(size_t(vocabulary), value);
            flat[size_t(vocabulary - 1)] = -0.0f; // -0 and +0 are equal logits
            Comparison comparison;
            for (int32_t topK : {0, 1, 3, 40, 2000})
                for (float minP : {0.0f, 0.5f})
                    for (double u : {0.0, 0.3137, 0.5519, 0.9999})
                        compareWithCpu(row, flat, {},
                                       hiptest::samplerOptions(1.0f, topK, 0.95f, minP), u,
                                       comparison);
            if (!comparison.failures.isEmpty()) QFAIL(qPrintable(comparison.failures.join("\n")));
            QCOMPARE(comparison.nearBoundary, 0);
        }
        // A plateau of equal maxima above the rest.
        std::vector<float> plateau = randomValues(size_t(vocabulary), random_, 1.0f);
        for (int i = 0; i < std::min(vocabulary, 50); ++i)
            plateau[size_t(i * 7 % vocabulary)] = 8.0f;
        Comparison comparison;
        for (int32_t topK : {1, 5, 49, 50, 51})
            for (double u : {0.0, 0.41, 0.77, 0.9999})
                compareWithCpu(row, plateau, {}, hiptest::samplerOptions(0.9f, topK, 1.0f, 0.0f), u,
                               comparison);
        if (!comparison.failures.isEmpty()) QFAIL(qPrintable(comparison.failures.join("\n")));
        QCOMPARE(comparison.nearBoundary, 0);
    }
}

// The CPU sampler does not define NaN logits; the kernel never picks them, and with every logit
// NaN it answers 0 like the argmax.
void TestCudaSampling::nanLogitsAreNeverChosen() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const int vocabulary = 3001;
    DeviceRow row{size_t(vocabulary)};
    std::vector<float> logits = randomValues(size_t(vocabulary), random_, 1.0f);
    for (size_t i = 0; i < logits.size(); i += 5)
        logits[i] = nan;
    for (const SamplerOptions& o : {hiptest::samplerOptions(0.0f, 40, 1.0f, 0.0f),
                                    hiptest::samplerOptions(1.0f, 0, 1.0f, 0.0f),
                                    hiptest::samplerOptions(1.0f, 40, 0.9f, 0.05f),
                                    hiptest::samplerOptions(2.0f, 0, 0.95f, 0.0f)})
        for (double u : {0.0, 0.5, 0.9999}) {
            std::vector<float> copy = logits;
            const int32_t token = row.sample(copy, {}, o, u);
            QVERIFY(token >= 0 && token < vocabulary);
            QVERIFY(!std::isnan(logits[size_t(token)]));
        }
    std::vector<float> allNan(size_t(vocabulary), nan);
    QCOMPARE(row.sample(allNan, {}, hiptest::samplerOptions(0.0f, 40, 1.0f, 0.0f), 0.5), 0);
    allNan.assign(size_t(vocabulary), nan);
    QCOMPARE(row.sample(allNan, {}, hiptest::samplerOptions(1.0f, 40, 0.9f, 0.05f), 0.5), 0);
}

// Fixed-point sums: the same inputs give the same token every time, also at a boundary.
void TestCudaSampling::repeatsRunToRun() {
    const int vocabulary = 128256;
    DeviceRow row{size_t(vocabulary)};
    const std::vector<float> logits = randomValues(size_t(vocabulary), random_, 2.0f);
    for (const SamplerOptions& o : {hiptest::samplerOptions(1.0f, 0, 0.95f, 0.0f),
                                    hiptest::samplerOptions(0.8f, 40, 0.9f, 0.05f),
                                    hiptest::samplerOptions(1.2f, 0, 1.0f, 0.01f)})
        for (double u : {0.123456789, 0.5, 0.987654321}) {
            std::vector<float> copy = logits;
            const int32_t first = row.sample(copy, {}, o, u);
            for (int run = 0; run < 20; ++run) {
                copy = logits;
                QCOMPARE(row.sample(copy, {}, o, u), first);
            }
        }
}

// End to end through the backend interface: a seeded sampler's tokens, penalties over a growing
// history (also past the window the backend sizes at creation), equal to the CPU's.
void TestCudaSampling::backendSamplesLikeCpu() {
    Side side(cudaBackend());
    const int vocabulary = 49157;
    const hip::backend::Act row = side.empty(1, vocabulary);
    const hip::backend::Act second = side.empty(2, vocabulary).rowRange(1, 1);
    for (SamplerOptions o : {hiptest::samplerOptions(0.0f, 40, 0.95f, 0.05f, 1.1f),
                             hiptest::samplerOptions(0.8f, 40, 0.95f, 0.05f),
                             hiptest::samplerOptions(1.0f, 0, 0.95f, 0.0f, 1.2f, 3000),
                             hiptest::samplerOptions(1.3f, 0, 1.0f, 0.02f, 1.05f, 16)}) {
        o.seed = 99;
        hip::runtime::Sampler gpuDraws(o), cpuDraws(o);
        std::vector<int32_t> recent(2000);
        for (int32_t& id : recent)
            id = std::uniform_int_distribution<int32_t>(0, vocabulary - 1)(random_);
        int nearBoundary = 0;
        for (int step = 0; step < 24; ++step) {
            std::vector<float> logits = randomValues(size_t(vocabulary), random_, 3.0f);
            const hip::backend::Act target = step % 2 ? second : row;
            cudaMemcpy(target.data, logits.data(), logits.size() * sizeof(float),
                       cudaMemcpyHostToDevice);
            cudaDeviceSynchronize();
            const double u = gpuDraws.draw();
            auto token = side.backend().sampleToken(target, recent, o, u);
            QVERIFY2(token.isOk(), token.message().c_str());
            std::vector<float> cpu = logits;
            const int32_t expected = pickToken(cpu, recent, o, cpuDraws.draw());
            if (*token != expected) {
                QVERIFY2(
                    withinRoundingOf(logits, recent, o, u, *token, 1e-5),
                    qPrintable(
                        QString("step %1: CPU %2, GPU %3").arg(step).arg(expected).arg(*token)));
                ++nearBoundary;
            }
            recent.push_back(expected);
        }
        QVERIFY(nearBoundary <= 1);
        QVERIFY(side.backend().takeError().isOk());
    }
}

QTEST_GUILESS_MAIN(TestCudaSampling)
#include "test_cuda_sampling.moc"
