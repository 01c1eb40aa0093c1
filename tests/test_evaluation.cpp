// The evaluations of `hipreader-cli eval` on the default model, kept short: recall ranks the
// methods as it must when HiP really prunes, dense perplexity is sane, dense attention finds a
// passkey, locality shows nearby keys scoring alike, and the engine's attention survives.

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

QTEST_GUILESS_MAIN(TestEvaluation)
#include "test_evaluation.moc"
