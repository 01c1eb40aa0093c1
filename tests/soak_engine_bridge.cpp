// Long session of the engine bridge (issue 13, point 3), run by scripts/soak.sh and not by CTest:
// the default model reads the test book (a PDF written with QPdfWriter) and answers questions
// about it one after the other, with the process's resident memory (VmRSS) and the engine's
// memory report printed after each; then the reading and the answering are cancelled at random
// moments, and the bridge must still answer exactly as it did at the start.
//
// Settings come from the environment (scripts/soak.sh sets them from its options):
//   HIPREADER_SOAK_QUESTIONS   questions in a row (default 200)
//   HIPREADER_SOAK_CANCELS     cancels, half while reading, half while answering (default 100)
//   HIPREADER_SOAK_MAX_TOKENS  tokens per answer (default 16)
//   HIPREADER_SOAK_DEVICE      cpu or cuda (default cpu)
//   HIPREADER_SOAK_CONTEXT     context tokens (default 2048)
//   HIPREADER_SOAK_SEED        seed of the cancel moments (default 1)
//   HIPREADER_SOAK_MAX_GROWTH  the memory growth allowed, in percent (default 5; a sanitizer's
//                              allocator keeps freed memory, so its runs allow more)
//
// Asserts: after the first ten questions, resident memory beside the KV cache (which holds the
// conversation, so it grows until the context is full) grows by less than the allowed growth, and
// all resident memory too once the KV cache stopped growing; on the GPU the engine's device
// allocations stay the same and the GPU's used memory grows by less than the allowed growth;
// every question is answered; every cancel ends its operation cleanly; after the cancels the
// probe question gets the same answer and the same first source page as at the start.

#include "bridge/engine_bridge.h"
#include "document/document_reader.h"
#include "test_ui_support.h"

#include <QElapsedTimer>
#include <QRandomGenerator>

#include <algorithm>
#include <numeric>
#include <vector>

using namespace hip::ui;

namespace {

int setting(const char* name, int fallback) {
    bool ok = false;
    const int value = qEnvironmentVariableIntValue(name, &ok);
    return ok ? value : fallback;
}

// VmRSS of /proc/self/status, in bytes.
qint64 residentBytes() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly)) qFatal("cannot read /proc/self/status");
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').at(0).toLongLong() * 1024;
    qFatal("no VmRSS in /proc/self/status");
}

double mib(qint64 bytes) {
    return double(bytes) / (1024.0 * 1024.0);
}

// Memory after an operation: the process's, and the engine's own report of it.
struct MemoryReading {
    qint64 resident = 0;  // VmRSS
    qint64 kvHost = 0;    // the KV cache in host memory (CPU): it grows with the conversation
    qint64 gpuEngine = 0; // the engine's GPU allocations: weights, KV cache, scratch
    qint64 gpuUsed = 0;   // the GPU's used memory as the driver reports it

    // Resident memory less the KV cache, which holds the conversation by design.
    qint64 residentBesideKv() const { return resident - kvHost; }

    static MemoryReading take(const std::optional<MemorySample>& sample, bool onGpu) {
        MemoryReading reading;
        reading.resident = residentBytes();
        if (!sample) return reading;
        const hip::MemoryReport& report = sample->report;
        reading.kvHost = qint64(report.kvHostBytes);
        if (onGpu) {
            reading.gpuEngine =
                qint64(report.weightBytes + report.kvDeviceBytes + report.scratchBytes);
            reading.gpuUsed = qint64(report.deviceTotalBytes -
                                     std::min(report.deviceFreeBytes, report.deviceTotalBytes));
        }
        return reading;
    }

    QString describe(bool onGpu) const {
        QString line = QStringLiteral("rss %1 MiB (KV cache %2 MiB)")
                           .arg(mib(resident), 0, 'f', 1)
                           .arg(mib(kvHost), 0, 'f', 1);
        if (onGpu)
            line += QStringLiteral(", gpu engine %1 MiB, gpu used %2 MiB")
                        .arg(mib(gpuEngine), 0, 'f', 1)
                        .arg(mib(gpuUsed), 0, 'f', 1);
        return line;
    }
};

double growth(qint64 from, qint64 to) {
    return from > 0 ? double(to - from) / double(from) : 0;
}

const QStringList& questions() {
    static const QStringList list = {
        QStringLiteral("What is the name of the cat?"),
        QStringLiteral("When does the market close?"),
        QStringLiteral("What does the harbour master ring?"),
        QStringLiteral("How many children go to the school?"),
        QStringLiteral("What do the farmers sell?"),
        QStringLiteral("Where does the cat sleep?"),
        QStringLiteral("What do the children plant in spring?"),
        QStringLiteral("When do the fishing boats leave?"),
    };
    return list;
}

struct Answered {
    AnswerOutcome outcome;
    double seconds = 0;

    // The page the answer attended to most beyond the book's background (-1: none stood out).
    int firstSource() const {
        return outcome.attention && !outcome.attention->pages.empty()
                   ? outcome.attention->pages.front().page
                   : -1;
    }
};

} // namespace

class SoakEngineBridge : public QObject {
    Q_OBJECT

    QTemporaryDir folder_;
    hip::doc::DocumentText book_;
    std::unique_ptr<EngineBridge> bridge_;
    hip::GenerateOptions options_;
    bool onGpu_ = false;
    std::optional<MemorySample> lastSample_; // sampled by the bridge as each operation ends
    QStringList failures_;                   // `failed` signals that were not cancels
    QTimer canceller_;                       // cancels the running operation at a chosen moment

    // The answer to the probe question right after reading, and its heaviest source page.
    QString probeText_;
    int probePage_ = -1;
    double readSeconds_ = 0;
    double answerSeconds_ = 0; // the median answer's
    MemoryReading afterTen_;
    double maxGrowth_ = 0.05;

    MemoryReading memory() const { return MemoryReading::take(lastSample_, onGpu_); }
    QString failures() const { return failures_.join(QStringLiteral("; ")); }

    bool waitFinished(Operation operation, int seconds = 600) {
        QSignalSpy finished(bridge_.get(), &EngineBridge::finished);
        while (finished.wait(seconds * 1000))
            for (const auto& args : finished)
                if (args.at(0).value<Operation>() == operation) return true;
        return false;
    }

    // Reads the book, cancelled after `cancelAfterMs` unless negative. Returns whether it was
    // read to the end; the seconds it took go to `seconds`.
    bool read(int cancelAfterMs = -1, double* seconds = nullptr) {
        QSignalSpy read(bridge_.get(), &EngineBridge::documentRead);
        QElapsedTimer timer;
        timer.start();
        if (!bridge_->readDocument(std::make_shared<const hip::doc::DocumentText>(book_), false))
            return false;
        if (cancelAfterMs >= 0) canceller_.start(cancelAfterMs);
        const bool done = waitFinished(Operation::ReadDocument);
        canceller_.stop(); // a cancel still pending would stop the next operation
        if (seconds) *seconds = double(timer.nsecsElapsed()) * 1e-9;
        return done && read.count() == 1;
    }

    // Asks `question`, cancelled after `cancelAfterMs` unless negative.
    std::optional<Answered> ask(const QString& question, int cancelAfterMs = -1) {
        QSignalSpy finished(bridge_.get(), &EngineBridge::answerFinished);
        QElapsedTimer timer;
        timer.start();
        if (!bridge_->ask(question, options_)) return std::nullopt;
        if (cancelAfterMs >= 0) canceller_.start(cancelAfterMs);
        const bool done = waitFinished(Operation::Answer);
        canceller_.stop();
        if (!done || finished.count() != 1) return std::nullopt;
        return Answered{finished.at(0).at(0).value<AnswerOutcome>(),
                        double(timer.nsecsElapsed()) * 1e-9};
    }

private slots:
    void initTestCase() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        auto text = hip::doc::readDocument(uitest::writeBook(folder_));
        QVERIFY2(text, text.message().c_str());
        book_ = std::move(*text);

        QTemporaryDir scratch;
        AppSettings settings(scratch.filePath(QStringLiteral("s.ini")));
        uitest::configureFastModel(settings);
        const QByteArray device = qgetenv("HIPREADER_SOAK_DEVICE");
        QVERIFY2(device.isEmpty() || device == "cpu" || device == "cuda",
                 "HIPREADER_SOAK_DEVICE is cpu or cuda");
        onGpu_ = device == "cuda";
        settings.setDevice(onGpu_ ? DevicePreference::Gpu : DevicePreference::Cpu);
        settings.setContextTokens(setting("HIPREADER_SOAK_CONTEXT", 2048));
        options_ = settings.generateOptions();
        options_.maxTokens = setting("HIPREADER_SOAK_MAX_TOKENS", 16);
        maxGrowth_ = setting("HIPREADER_SOAK_MAX_GROWTH", 5) / 100.0;

        bridge_ = std::make_unique<EngineBridge>();
        canceller_.setSingleShot(true);
        connect(&canceller_, &QTimer::timeout, bridge_.get(), &EngineBridge::cancel);
        connect(bridge_.get(), &EngineBridge::memorySampled, this,
                [this](const MemorySample& sample) { lastSample_ = sample; });
        connect(bridge_.get(), &EngineBridge::failed, this,
                [this](Operation, const QString& message, hip::ErrorCode code) {
                    if (code != hip::ErrorCode::Cancelled) failures_ << message;
                });
        QVERIFY(bridge_->loadModel(settings.loadOptions()));
        QVERIFY(waitFinished(Operation::LoadModel));
        QVERIFY2(bridge_->hasModel(), qPrintable(failures()));
        if (onGpu_) QVERIFY2(bridge_->model()->onGpu, "the model did not load on the GPU");
        qInfo("model on %s, context %lld, %d tokens per answer; after loading: %s",
              qPrintable(bridge_->model()->device), qlonglong(bridge_->model()->contextTokens),
              options_.maxTokens, qPrintable(memory().describe(onGpu_)));

        QVERIFY2(read(-1, &readSeconds_), qPrintable(failures()));
        const auto probe = ask(questions().front());
        QVERIFY(probe && probe->outcome.stats.generatedTokens > 0);
        probeText_ = probe->outcome.text;
        probePage_ = probe->firstSource();
        qInfo("book read in %.2f s; probe answer \"%s\" (first source page %d); %s", readSeconds_,
              qPrintable(probeText_), probePage_ + 1, qPrintable(memory().describe(onGpu_)));
    }

    void answersQuestionsInARowWithFlatMemory() {
        const int count = setting("HIPREADER_SOAK_QUESTIONS", 200);
        QVERIFY(count > 10);
        MemoryReading peak;
        std::vector<MemoryReading> readings; // after each question
        std::vector<double> seconds;
        int withoutSource = 0; // answers whose attention singled out no page
        for (int i = 1; i <= count; ++i) {
            const QString question = questions().at(i % questions().size());
            const auto answered = ask(question);
            QVERIFY2(answered, qPrintable(QStringLiteral("question %1 (%2) failed: %3")
                                              .arg(i)
                                              .arg(question, failures())));
            const AnswerOutcome& outcome = answered->outcome;
            QVERIFY2(outcome.stopReason == hip::StopReason::EndOfTurn ||
                         outcome.stopReason == hip::StopReason::MaxTokens,
                     qPrintable(QStringLiteral("question %1 stopped (reason %2)")
                                    .arg(i)
                                    .arg(int(outcome.stopReason))));
            QVERIFY2(outcome.stats.generatedTokens > 0 && outcome.attention,
                     qPrintable(QStringLiteral("question %1 got no answer").arg(i)));
            if (answered->firstSource() < 0) ++withoutSource;
            seconds.push_back(answered->seconds);
            const MemoryReading now = memory();
            qInfo("question %d: %s; %.2f s, %lld tokens, %lld reused; \"%s\"", i,
                  qPrintable(now.describe(onGpu_)), answered->seconds,
                  qlonglong(outcome.stats.generatedTokens), qlonglong(outcome.stats.reusedTokens),
                  qPrintable(outcome.text.simplified()));
            readings.push_back(now);
            if (i == 10) afterTen_ = now;
            if (i <= 10) continue;
            peak.resident = std::max(peak.resident, now.resident);
            peak.kvHost = std::max(peak.kvHost, now.kvHost);
            peak.gpuUsed = std::max(peak.gpuUsed, now.gpuUsed);
            if (onGpu_) QCOMPARE(now.gpuEngine, afterTen_.gpuEngine);
            QVERIFY2(growth(afterTen_.residentBesideKv(), now.residentBesideKv()) < maxGrowth_,
                     qPrintable(QStringLiteral(
                                    "question %1: resident memory beside the KV "
                                    "cache grew by the allowed growth or more since question 10")
                                    .arg(i)));
        }
        const double totalSeconds = std::accumulate(seconds.begin(), seconds.end(), 0.0);
        std::nth_element(seconds.begin(), seconds.begin() + count / 2, seconds.end());
        answerSeconds_ = seconds[size_t(count / 2)];
        const MemoryReading last = memory();
        qInfo("%d questions in %.1f s (%.2f s each, median %.2f s); %d without a cited page", count,
              totalSeconds, totalSeconds / count, answerSeconds_, withoutSource);
        qInfo("rss after 10: %.1f MiB (KV cache %.1f), after %d: %.1f MiB (KV cache %.1f), peak "
              "after 10: %.1f MiB; growth %.2f%% (beside the KV cache %.2f%%)",
              mib(afterTen_.resident), mib(afterTen_.kvHost), count, mib(last.resident),
              mib(last.kvHost), mib(peak.resident), 100 * growth(afterTen_.resident, last.resident),
              100 * growth(afterTen_.residentBesideKv(), last.residentBesideKv()));
        // The KV cache holds the conversation, so it grows until the context is full (pages are
        // kept for reuse when the oldest exchanges leave); from then on nothing may grow.
        const auto kvFull = std::find_if(readings.begin() + 10, readings.end(),
                                         [&](const auto& r) { return r.kvHost == peak.kvHost; });
        qint64 peakOnceFull = 0;
        for (auto r = kvFull; r != readings.end(); ++r)
            peakOnceFull = std::max(peakOnceFull, r->resident);
        qInfo("once the KV cache stopped growing (question %d): rss %.1f MiB, peak after: %.1f "
              "MiB, growth %.2f%%",
              int(kvFull - readings.begin()) + 1, mib(kvFull->resident), mib(peakOnceFull),
              100 * growth(kvFull->resident, peakOnceFull));
        QVERIFY2(
            growth(kvFull->resident, peakOnceFull) < maxGrowth_,
            "resident memory grew by the allowed growth or more once the KV cache stopped growing");
        if (onGpu_) {
            qInfo("gpu: engine %.1f MiB throughout; used after 10: %.1f MiB, peak after: %.1f "
                  "MiB, growth %.2f%%",
                  mib(afterTen_.gpuEngine), mib(afterTen_.gpuUsed), mib(peak.gpuUsed),
                  100 * growth(afterTen_.gpuUsed, peak.gpuUsed));
            QVERIFY2(growth(afterTen_.gpuUsed, peak.gpuUsed) < maxGrowth_,
                     "the GPU's used memory grew by the allowed growth or more");
        }
    }

    void survivesCancelsAtRandomMoments() {
        const int count = setting("HIPREADER_SOAK_CANCELS", 100);
        QRandomGenerator random(quint32(setting("HIPREADER_SOAK_SEED", 1)));
        // Moments up to 20% past the typical duration (the median answer's, the last reading's:
        // the first was a cold start), so some cancels come after the end.
        const auto moment = [&random](double seconds) {
            return int(random.bounded(std::max(1, int(seconds * 1200))));
        };
        int readsCancelled = 0, readsDone = 0, answersCancelled = 0, answersDone = 0;
        for (int i = 0; i < count; ++i) {
            if (i % 2 == 0) {
                const int delay = moment(readSeconds_);
                double seconds = 0;
                const bool done = read(delay, &seconds);
                QVERIFY2(failures_.isEmpty(), qPrintable(failures()));
                done ? ++readsDone : ++readsCancelled;
                // Answers need the book: a cancelled reading is done again.
                if (!done)
                    QVERIFY2(read(-1, &readSeconds_), qPrintable(failures()));
                else
                    readSeconds_ = seconds;
                qInfo("cancel %d: reading at %d ms: %s after %.0f ms; %s", i + 1, delay,
                      done ? "read to the end first" : "cancelled", seconds * 1000,
                      qPrintable(memory().describe(onGpu_)));
            } else {
                const int delay = moment(answerSeconds_);
                const auto answered =
                    ask(questions().at(random.bounded(questions().size())), delay);
                QVERIFY2(answered, qPrintable(failures()));
                const bool cancelled = answered->outcome.stopReason == hip::StopReason::Cancelled;
                cancelled ? ++answersCancelled : ++answersDone;
                qInfo("cancel %d: answering at %d ms: %s after %lld tokens; %s", i + 1, delay,
                      cancelled ? "cancelled" : "answered first",
                      qlonglong(answered->outcome.stats.generatedTokens),
                      qPrintable(memory().describe(onGpu_)));
            }
        }

        // A fresh reading of the book answers the probe exactly as at the start (greedy decoding).
        QVERIFY2(read(), qPrintable(failures()));
        const auto probe = ask(questions().front());
        QVERIFY(probe && probe->outcome.stats.generatedTokens > 0);
        const MemoryReading now = memory();
        qInfo("%d cancels: reading %d cancelled, %d finished first; answering %d cancelled, %d "
              "finished first",
              count, readsCancelled, readsDone, answersCancelled, answersDone);
        qInfo("then the probe: \"%s\" (first source page %d); %s, %.2f%% over question 10 "
              "(beside the KV cache %.2f%%)",
              qPrintable(probe->outcome.text), probe->firstSource() + 1,
              qPrintable(now.describe(onGpu_)), 100 * growth(afterTen_.resident, now.resident),
              100 * growth(afterTen_.residentBesideKv(), now.residentBesideKv()));
        QCOMPARE(probe->outcome.text, probeText_);
        QCOMPARE(probe->firstSource(), probePage_);
        QVERIFY2(growth(afterTen_.residentBesideKv(), now.residentBesideKv()) < maxGrowth_,
                 "resident memory beside the KV cache grew by the allowed growth or more through "
                 "the cancels");
        if (onGpu_) QCOMPARE(now.gpuEngine, afterTen_.gpuEngine);
    }

    void cleanupTestCase() { bridge_.reset(); }
};

QTEST_MAIN(SoakEngineBridge)
#include "soak_engine_bridge.moc"
