// The forward pass of every architecture path the engine claims, against Hugging Face
// transformers: arch qwen2 (biases, NEOX rope), F16/BF16 and every legacy and K-quant type,
// grouped-query attention with group 1, 2 and 4, an untied output.weight, linear rope scaling and
// llama3 rope_freqs.weight. The models are tiny random-weight GGUF files; the reference logits
// come from scripts/make_tiny_models.py (tests/data/tiny_*.gguf, tiny_models_reference.json).

#include "test_support.h"

#include <hip/engine.h>
#include <hip/session.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

// Largest tolerated |engine - reference| over the stored logits (which spread over a few units).
// Both sides dequantize the same bytes and compute in fp32, so only summation order differs.
constexpr double kTolerance = 1e-3;

// Tokens the prefill call takes in the incremental mode; the rest are decoded one at a time,
// which runs the matrix-vector products instead of the GEMMs and reads earlier keys and values
// back from the KV cache.
constexpr size_t kPrefillTokens = 16;

QJsonObject readGolden() {
    QFile file(
        QString::fromStdString((hiptest::dataDir() / "tiny_models_reference.json").string()));
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::vector<int32_t> tokenIds(const QJsonObject& golden) {
    std::vector<int32_t> ids;
    for (const QJsonValue& id : golden["token_ids"].toArray())
        ids.push_back(id.toInt());
    return ids;
}

QJsonObject modelCase(const QJsonObject& golden, const QString& file) {
    for (const QJsonValue& value : golden["models"].toArray())
        if (value.toObject()["file"].toString() == file) return value.toObject();
    return {};
}

// Logits of every token (tokens x vocab). With `prefill` < tokens.size() the first `prefill`
// tokens go through one call and the others through one call each.
hip::Result<std::vector<float>> engineLogits(const std::filesystem::path& model,
                                             const std::vector<int32_t>& tokens, size_t prefill,
                                             int& vocab) {
    hip::LoadOptions options;
    options.model = model;
    options.contextTokens = 128;
    auto engine = hip::Engine::load(options);
    if (!engine) return engine.status();
    vocab = int((*engine)->info().vocabSize);
    auto session = (*engine)->newSession();
    auto logits = session->evaluate({tokens.begin(), tokens.begin() + prefill}, true);
    if (!logits) return logits.status();
    for (size_t t = prefill; t < tokens.size(); ++t) {
        auto next = session->evaluate({tokens[t]}, false);
        if (!next) return next.status();
        logits->insert(logits->end(), next->begin(), next->end());
    }
    return logits;
}

// Per position, the largest |engine - reference| over the stored logits (the top ones and a
// fixed sample of ids).
std::vector<double> differences(const std::vector<float>& logits, int vocab,
                                const QJsonObject& golden, const QJsonObject& reference) {
    const QJsonArray sampledIds = golden["sampled_ids"].toArray();
    const QJsonArray positions = reference["positions"].toArray();
    std::vector<double> result;
    for (int p = 0; p < positions.size(); ++p) {
        const QJsonObject expected = positions[p].toObject();
        const float* row = logits.data() + size_t(p) * size_t(vocab);
        double worst = 0.0;
        auto compare = [&](const QJsonArray& ids, const QJsonArray& values) {
            for (int i = 0; i < ids.size(); ++i)
                worst =
                    std::max(worst, std::abs(double(row[ids[i].toInt()]) - values[i].toDouble()));
        };
        compare(expected["top_ids"].toArray(), expected["top_logits"].toArray());
        compare(sampledIds, expected["sampled_logits"].toArray());
        result.push_back(worst);
    }
    return result;
}

} // namespace

class TestArchitectures : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesTransformers_data();
    void matchesTransformers();
    void catchesWrongRopeLayout();

private:
    QJsonObject golden_;
};

void TestArchitectures::initTestCase() {
    golden_ = readGolden();
    QVERIFY2(!golden_.isEmpty(), "tests/data/tiny_models_reference.json is missing or invalid: "
                                 "run scripts/make_tiny_models.py");
    // Six models between them cover the paths listed at the top; a shorter list loses coverage.
    QCOMPARE(golden_["models"].toArray().size(), 6);
    QVERIFY(tokenIds(golden_).size() > kPrefillTokens); // the incremental mode needs decode steps
}

void TestArchitectures::matchesTransformers_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("prefill");
    const int whole = int(tokenIds(golden_).size());
    for (const QJsonValue& value : golden_["models"].toArray()) {
        const QString file = value.toObject()["file"].toString();
        QTest::newRow(qPrintable(file + " one call")) << file << whole;
        QTest::newRow(qPrintable(file + " prefill+decode")) << file << int(kPrefillTokens);
    }
}

void TestArchitectures::matchesTransformers() {
    QFETCH(QString, file);
    QFETCH(int, prefill);
    const QJsonObject reference = modelCase(golden_, file);
    const std::vector<int32_t> tokens = tokenIds(golden_);
    int vocab = 0;
    auto logits =
        engineLogits(hiptest::dataDir() / file.toStdString(), tokens, size_t(prefill), vocab);
    QVERIFY2(logits.isOk(), logits.message().c_str());
    QCOMPARE(logits->size(), tokens.size() * size_t(vocab));

    const QJsonArray positions = reference["positions"].toArray();
    QCOMPARE(size_t(positions.size()), tokens.size());
    for (int p = 0; p < positions.size(); ++p) {
        const float* row = logits->data() + size_t(p) * size_t(vocab);
        const int ours = int(std::max_element(row, row + vocab) - row);
        const int theirs = positions[p].toObject()["top_ids"].toArray()[0].toInt();
        // The same next token, unless the two candidates are closer than the tolerance.
        QVERIFY2(ours == theirs || std::abs(row[ours] - row[theirs]) < kTolerance,
                 qPrintable(
                     QString("position %1: argmax %2, reference %3").arg(p).arg(ours).arg(theirs)));
    }
    const std::vector<double> diff = differences(*logits, vocab, golden_, reference);
    const double worst = *std::max_element(diff.begin(), diff.end());
    qInfo("%s: max |logit difference| = %.2e over %zu positions (tolerance %.0e)", qPrintable(file),
          worst, diff.size(), kTolerance);
    QVERIFY2(worst < kTolerance, qPrintable(QString("max logit difference %1").arg(worst)));
}

// The reference comparison must be able to see a rope-layout bug, which leaves position 0 alone
// (no rotation there) and shows up only later. The unpermuted file holds the weights of a
// reference model with Q/K in Hugging Face order: a reader that rotates neighbouring pairs then
// pairs the wrong values, exactly what reading a NEOX-layout file as NORM (or the reverse) does.
void TestArchitectures::catchesWrongRopeLayout() {
    const QJsonObject unpermuted = golden_["unpermuted"].toObject();
    const QJsonObject reference = modelCase(golden_, unpermuted["weights_of"].toString());
    QVERIFY(!reference.isEmpty());
    const std::vector<int32_t> tokens = tokenIds(golden_);
    int vocab = 0;
    auto logits = engineLogits(hiptest::dataDir() / unpermuted["file"].toString().toStdString(),
                               tokens, tokens.size(), vocab);
    QVERIFY2(logits.isOk(), logits.message().c_str());

    const std::vector<double> diff = differences(*logits, vocab, golden_, reference);
    const double later = *std::max_element(diff.begin() + 1, diff.end());
    qInfo("unpermuted Q/K: position 0 differs by %.2e, later positions by up to %.2e", diff[0],
          later);
    QVERIFY2(diff[0] < kTolerance, "position 0 has no rotation and must still match");
    QVERIFY2(later > 100 * kTolerance, "a wrong rope layout went unnoticed");
}

QTEST_GUILESS_MAIN(TestArchitectures)
#include "test_architectures.moc"
