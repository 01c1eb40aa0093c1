// The evaluations of `hipreader-cli eval` on the default model, kept short: recall ranks the
// methods as it must when HiP really prunes, dense perplexity is sane, dense attention finds a
// passkey, locality shows nearby keys scoring alike, the attention window's rows sum to one with
// HiP's mask and recall consistent, and the engine's attention survives.

#include "test_support.h"

#include <hip/engine.h>
#include <hip/evaluation.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace {

// English prose from the test data, about 5K tokens.
std::string prose() {
    std::ifstream in(hiptest::dataDir() / "tokenizer_corpus.txt", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// HiP scaled down so that it prunes at 1-2K tokens: 16 sinks, a 128-token window and a final
// budget of 128 keys (256 in the first layers).
hip::AttentionConfig smallHip() {
    hip::AttentionConfig config = *hip::AttentionConfig::preset("hip-3k");
    config.name = "small hip";
    config.sinkTokens = 16;
    config.windowTokens = 128;
    config.stages = {{64, 512, 4, 16}, {16, 256, 4, 8}, {8, 128, 1, 4}};
    config.firstLayersFinalTokens = 256;
    return config;
}

} // namespace

class TestEvaluation : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void recallRanksMethods();
    void recallRejectsDenseAndShortTexts();
    void densePerplexityIsSane();
    void denseFindsPasskey();
    void localitySpreadGrowsWithDistance();
    void windowShowsDenseBesideHip();

private:
    std::unique_ptr<hip::Engine> engine_;
};

void TestEvaluation::initTestCase() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    hip::LoadOptions options;
    options.model = hiptest::defaultModelPath();
    options.contextTokens = 2048;
    auto engine = hip::Engine::load(options);
    QVERIFY2(engine, engine.message().c_str());
    engine_ = std::move(*engine);
}

void TestEvaluation::recallRanksMethods() {
    hip::eval::RecallOptions options;
    options.text = prose();
    options.attention = smallHip();
    options.contextTokens = 1536;
    options.samples = 3;
    auto report = hip::eval::measureRecall(*engine_, options);
    QVERIFY2(report, report.message().c_str());
    QCOMPARE(int64_t(report->layers.size()), engine_->info().layers);
    for (const hip::eval::LayerRecall& l : report->layers) {
        // The oracle is the best set of as many keys, per row and head.
        QVERIFY(l.shares.oracle >= l.shares.hip - 1e-6);
        QVERIFY(l.shares.hip >= l.shares.streaming - 1e-6);
        QVERIFY(l.shares.oracle <= 1.0 + 1e-5);
        QVERIFY(l.attendedKeys < l.visibleKeys); // pruning happened
    }
    const hip::eval::LayerRecall mean = report->mean();
    QVERIFY2(mean.shares.hip > mean.shares.random,
             qPrintable(
                 QStringLiteral("HiP %1, random %2").arg(mean.shares.hip).arg(mean.shares.random)));
    QVERIFY(mean.shares.streaming < mean.shares.oracle);
    QCOMPARE(engine_->attention().mode, hip::AttentionConfig::Mode::Dense); // restored
}

void TestEvaluation::recallRejectsDenseAndShortTexts() {
    hip::eval::RecallOptions options;
    options.text = "Too short.";
    options.attention = hip::AttentionConfig{};
    QCOMPARE(hip::eval::measureRecall(*engine_, options).status().code(),
             hip::ErrorCode::InvalidArgument);
    options.attention = smallHip();
    options.contextTokens = 512;
    auto report = hip::eval::measureRecall(*engine_, options);
    QCOMPARE(report.status().code(), hip::ErrorCode::InvalidArgument);
    QVERIFY(report.message().find("tokens") != std::string::npos);
}

void TestEvaluation::densePerplexityIsSane() {
    hip::eval::PerplexityOptions options;
    options.text = prose();
    options.attention = smallHip();
    options.lengths = {256, 512};
    auto report = hip::eval::measurePerplexity(*engine_, options);
    QVERIFY2(report, report.message().c_str());
    QCOMPARE(report->rows.size(), size_t(2));
    for (const hip::eval::PerplexityRow& row : report->rows) {
        QVERIFY2(std::isfinite(row.dense) && row.dense > 2 && row.dense < 100,
                 qPrintable(QString::number(row.dense)));
        QVERIFY(std::isfinite(row.hip) && row.hip > 1);
    }
    // Below sinks + window + budget HiP attends every key: the same model, the same perplexity.
    QVERIFY(std::abs(report->rows[0].hip / report->rows[0].dense - 1.0) < 1e-3);
}

void TestEvaluation::denseFindsPasskey() {
    hip::eval::PasskeyOptions options;
    options.attention = smallHip();
    options.lengths = {1024};
    options.depths = {0.5};
    auto report = hip::eval::measurePasskey(*engine_, options);
    QVERIFY2(report, report.message().c_str());
    QCOMPARE(report->trials.size(), size_t(1));
    const hip::eval::PasskeyTrial& trial = report->trials[0];
    QVERIFY(std::abs(trial.promptTokens - 1024) < 32);
    QVERIFY2(trial.denseFound, (trial.key + " not in: " + trial.denseAnswer).c_str());
}

void TestEvaluation::localitySpreadGrowsWithDistance() {
    hip::eval::LocalityOptions options;
    options.text = prose();
    options.contextTokens = 1024;
    options.samples = 4;
    auto report = hip::eval::measureLocality(*engine_, options);
    QVERIFY2(report, report.message().c_str());
    QCOMPARE(report->distances.front(), int64_t(1));
    QCOMPARE(report->sigma.size(), size_t(engine_->info().layers));
    const std::vector<double> mean = report->meanSigma();
    QVERIFY2(mean.front() < mean.back(), qPrintable(QStringLiteral("%1 at distance 1, %2 at %3")
                                                        .arg(mean.front())
                                                        .arg(mean.back())
                                                        .arg(report->distances.back())));
}

void TestEvaluation::windowShowsDenseBesideHip() {
    hip::eval::WindowOptions options;
    options.text = prose();
    options.contextTokens = 1536;
    options.queryTokens = 96; // rows from two query blocks
    options.layer = 5;
    options.attention = smallHip();
    auto report = hip::eval::measureWindow(*engine_, options);
    QVERIFY2(report, report.message().c_str());
    QCOMPARE(report->keys, int64_t(1536));
    QCOMPARE(report->firstQuery, int64_t(1536 - 96));
    QCOMPARE(report->rows(), int64_t(96));
    const auto keys = size_t(report->keys);
    QCOMPARE(report->probabilities.size(), size_t(report->rows()) * keys);
    QCOMPARE(report->attended.size(), report->probabilities.size());

    const hip::AttentionConfig& config = options.attention;
    double recall = 0;
    int64_t pruned = 0, selected = 0;
    for (int64_t r = 0; r < report->rows(); ++r) {
        const int64_t position = report->firstQuery + r;
        const float* p = report->probabilities.data() + size_t(r) * keys;
        const uint8_t* a = report->attended.data() + size_t(r) * keys;
        double total = 0, kept = 0;
        for (size_t k = 0; k < keys; ++k) {
            total += p[k];
            if (a[k]) kept += p[k];
            // Causal: nothing right of the row's own position.
            if (int64_t(k) > position) QVERIFY(p[k] == 0 && a[k] == 0);
        }
        QVERIFY2(std::abs(total - 1) < 1e-4, qPrintable(QString::number(total)));
        for (int64_t k = 0; k < config.sinkTokens; ++k)
            QVERIFY(a[k]);
        for (int64_t k = position - config.windowTokens + 1; k <= position; ++k)
            QVERIFY(a[k]);
        for (int64_t k = 0; k <= position; ++k) {
            pruned += a[k] ? 0 : 1;
            const bool always = k < config.sinkTokens || k > position - config.windowTokens;
            selected += a[k] && !always ? 1 : 0;
        }
        recall += kept;
    }
    QVERIFY(pruned > 0);   // the small budget leaves keys out
    QVERIFY(selected > 0); // and selects some beyond the sinks and the window
    recall /= double(report->rows());
    QVERIFY2(std::abs(report->hipRecall - recall) < 1e-5,
             qPrintable(QStringLiteral("%1 against %2").arg(report->hipRecall).arg(recall)));
    QVERIFY(report->hipRecall > 0 && report->hipRecall < 1);

    // One head on its own also sums to 1 per row.
    hip::eval::WindowOptions oneHeadOptions = options;
    oneHeadOptions.contextTokens = 256;
    oneHeadOptions.queryTokens = 8;
    oneHeadOptions.head = 2;
    auto oneHead = hip::eval::measureWindow(*engine_, oneHeadOptions);
    QVERIFY2(oneHead, oneHead.message().c_str());
    QCOMPARE(oneHead->keys, int64_t(256));
    for (int64_t r = 0; r < oneHead->rows(); ++r) {
        const float* p = oneHead->probabilities.data() + size_t(r) * 256;
        double total = 0;
        for (size_t k = 0; k < 256; ++k)
            total += p[k];
        QVERIFY(std::abs(total - 1) < 1e-4);
    }

    // A budget that covers every candidate attends every key: HiP is dense attention.
    hip::AttentionConfig everything = smallHip();
    everything.stages = {{64, 2048, 4, 16}, {16, 2048, 4, 8}, {8, 2048, 1, 4}};
    everything.firstLayersFinalTokens = 2048;
    options.attention = everything;
    auto all = hip::eval::measureWindow(*engine_, options);
    QVERIFY2(all, all.message().c_str());
    QVERIFY(std::abs(all->hipRecall - 1) < 1e-5);
    for (int64_t r = 0; r < all->rows(); ++r)
        for (int64_t k = 0; k <= all->firstQuery + r; ++k)
            QVERIFY(all->attended[size_t(r) * keys + size_t(k)]);

    // Dense attention is not a HiP configuration; a head that does not exist is refused.
    options.attention = hip::AttentionConfig{};
    QCOMPARE(hip::eval::measureWindow(*engine_, options).status().code(),
             hip::ErrorCode::InvalidArgument);
    options.attention = smallHip();
    options.head = int32_t(engine_->info().heads);
    QCOMPARE(hip::eval::measureWindow(*engine_, options).status().code(),
             hip::ErrorCode::InvalidArgument);
    QCOMPARE(engine_->attention().mode, hip::AttentionConfig::Mode::Dense); // restored
}

QTEST_GUILESS_MAIN(TestEvaluation)
#include "test_evaluation.moc"
