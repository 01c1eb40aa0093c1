// The engine's logits on the CPU against Hugging Face transformers running the same GGUF
// (tests/data/reference_logits.json, made by scripts/make_reference_logits.py).

#include "test_support.h"

#include <hip/engine.h>
#include <hip/session.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

// Largest tolerated |engine - reference| over the compared logits. Both sides dequantize the
// same weights exactly and compute in fp32; what remains is summation order (BLAS vs PyTorch).
constexpr double kTolerance = 1e-3;

std::vector<int> topIds(const float* logits, int vocab, int count) {
    std::vector<int> ids(static_cast<size_t>(vocab));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + count, ids.end(),
                      [&](int a, int b) { return logits[a] > logits[b]; });
    ids.resize(size_t(count));
    return ids;
}

} // namespace

class TestReferenceLogits : public QObject {
    Q_OBJECT
private slots:
    void matchesTransformers();
};

void TestReferenceLogits::matchesTransformers() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    QFile file(QString::fromStdString((hiptest::dataDir() / "reference_logits.json").string()));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject golden = QJsonDocument::fromJson(file.readAll()).object();
    const QJsonArray sampledIds = golden["sampled_ids"].toArray();
    const QJsonArray cases = golden["cases"].toArray();
    QCOMPARE(cases.size(), 3);

    hip::LoadOptions options;
    options.model = hiptest::defaultModelPath();
    options.contextTokens = 256;
    auto engine = hip::Engine::load(options);
    QVERIFY2(engine.isOk(), engine.message().c_str());
    const int vocab = int((*engine)->info().vocabSize);

    double worst = 0.0;
    int comparedPositions = 0;
    for (const QJsonValue& caseValue : cases) {
        const QJsonObject testCase = caseValue.toObject();
        std::vector<int32_t> tokens;
        for (const QJsonValue& id : testCase["token_ids"].toArray())
            tokens.push_back(id.toInt());
        auto session = (*engine)->newSession();
        auto logits = session->evaluate(tokens, true);
        QVERIFY2(logits.isOk(), logits.message().c_str());
        QCOMPARE(logits->size(), tokens.size() * size_t(vocab));

        const QJsonArray positions = testCase["positions"].toArray();
        QCOMPARE(size_t(positions.size()), tokens.size());
        for (int p = 0; p < positions.size(); ++p) {
            const QJsonObject expected = positions[p].toObject();
            const float* row = logits->data() + size_t(p) * size_t(vocab);
            const QJsonArray refTop = expected["top_ids"].toArray();
            const QJsonArray refTopLogits = expected["top_logits"].toArray();
            const std::vector<int> ours = topIds(row, vocab, 5);
            for (int i = 0; i < 5; ++i) {
                const int refId = refTop[i].toInt();
                // Same ids in the same order, unless two logits are closer than the tolerance.
                if (ours[size_t(i)] != refId) {
                    QVERIFY2(std::abs(row[ours[size_t(i)]] - row[refId]) < kTolerance,
                             qPrintable(QString("position %1: top-%2 id %3, reference %4")
                                            .arg(p)
                                            .arg(i + 1)
                                            .arg(ours[size_t(i)])
                                            .arg(refId)));
                }
            }
            for (int i = 0; i < refTop.size(); ++i)
                worst = std::max(
                    worst, std::abs(double(row[refTop[i].toInt()]) - refTopLogits[i].toDouble()));
            const QJsonArray refSampled = expected["sampled_logits"].toArray();
            for (int i = 0; i < sampledIds.size(); ++i)
                worst = std::max(
                    worst, std::abs(double(row[sampledIds[i].toInt()]) - refSampled[i].toDouble()));
            ++comparedPositions;
        }
    }
    qInfo("compared %d positions: max |logit difference| = %.2e (tolerance %.0e)",
          comparedPositions, worst, kTolerance);
    QVERIFY2(worst < kTolerance, qPrintable(QString("max logit difference %1").arg(worst)));
}

QTEST_GUILESS_MAIN(TestReferenceLogits)
#include "test_reference_logits.moc"
