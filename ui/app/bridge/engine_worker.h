#pragma once
// The engine's side of the bridge: a QObject living on its own thread that owns the Engine and the
// Session. The GUI never calls it directly: EngineBridge queues each request onto the worker's
// thread, and the worker answers through signals (queued back to the GUI thread). One request runs
// at a time; each ends with `finished(operation)` after its result or its error.

#include "bridge/attention_mask.h"
#include "bridge/attention_window.h"
#include "bridge/bridge_types.h"

#include <hip/engine.h>
#include <hip/session.h>

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <memory>

class QTimer;

namespace hip::ui {

class EngineWorker final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineWorker)

public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

    // Requests (run on the worker's thread).
    void estimateMemory(const hip::LoadOptions& options);
    // With `fallbackToCpu`, a GPU that cannot be used (none, too little memory) gives way to the
    // CPU, and `notice` says so.
    void loadModel(hip::LoadOptions options, bool fallbackToCpu, const hip::CancelToken& cancel);
    void countTokens(const hip::ui::DocumentPtr& document);
    // With `onlyWhatFits`, a document longer than the context is read up to the last page that
    // fits (documentRead says how many pages); otherwise it is refused.
    void readDocument(const hip::ui::DocumentPtr& document, bool onlyWhatFits,
                      const hip::CancelToken& cancel);
    void ask(const QString& question, const hip::GenerateOptions& options,
             const hip::CancelToken& cancel);
    void attentionMask(int layer, int keyBins);
    void measureLocality(int64_t contextTokens, const hip::CancelToken& cancel);
    void measureWindow(const hip::ui::AttentionWindowRequest& request,
                       const hip::CancelToken& cancel);

signals:
    void memoryEstimated(const hip::MemoryEstimate& estimate);
    void loadProgress(const QString& stage, qint64 done, qint64 total);
    void modelLoaded(const hip::ui::ModelSummary& summary);
    void tokensCounted(qint64 documentTokens, qint64 contextTokens);
    void readingProgress(const hip::doc::IngestEstimate& estimate);
    void documentRead(const hip::ui::DocumentTokensPtr& tokens, int pagesRead);
    void answerPiece(const QString& piece);
    // While answering (about once a second) and once more in answerFinished.
    void attentionUpdated(const hip::ui::AttentionSummaryPtr& attention);
    void answerFinished(const hip::ui::AnswerOutcome& outcome);
    void attentionMaskReady(const hip::ui::AttentionMaskPtr& mask);
    void measureProgress(const QString& stage, qint64 done, qint64 total);
    void localityMeasured(const hip::ui::LocalityReportPtr& report);
    void windowMeasured(const hip::ui::AttentionWindowPtr& window);
    void memorySampled(const hip::ui::MemorySample& sample);
    // Something the user should know that is not an error (a fallback taken).
    void notice(const QString& message);
    // hip::ErrorCode::Cancelled when the user stopped it: not an error to report.
    void failed(hip::ui::Operation operation, const QString& message, hip::ErrorCode code);
    void finished(hip::ui::Operation operation);

private:
    void fail(Operation operation, const hip::Status& status);
    // Samples Engine::memory() if the last sample is at least half a second old. Called from the
    // worker's timer when idle and from progress callbacks while busy (the timer cannot fire
    // then), always on this thread: Engine::memory() is not safe to call during a computation
    // from another thread.
    void sampleMemoryIfDue();
    void publishAttention();
    // The number of leading pages of `document` whose tokens fit `budget`.
    int pagesThatFit(const doc::DocumentText& document, int64_t budget) const;

    std::unique_ptr<hip::Engine> engine_;
    std::unique_ptr<hip::Session> session_;
    DocumentPtr document_;
    DocumentTokensPtr tokens_;
    QTimer* memoryTimer_;
    QElapsedTimer sinceSample_;
};

} // namespace hip::ui
