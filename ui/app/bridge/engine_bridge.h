#pragma once
// The GUI's side of the engine: starts the engine thread and its EngineWorker, queues requests to
// it, and re-emits its results on the GUI thread. Nothing here ever waits for the engine: a
// request returns at once and its result arrives as a signal. The cancel token of the running
// operation stays here, so the GUI can stop it while the engine thread is busy.
//
// It is the chat's AnswerEngine when the model runs on this computer. Answer text is coalesced
// (TextCoalescer), so a fast GPU does not repaint the chat for every token.
//
// Memory is sampled here, on the GUI thread, from a timer: Engine::memory() is safe to call while
// the engine thread computes, so the gauge keeps moving during a long prefill chunk. The worker
// attaches its engine to the shared MemoryProbe after a load and detaches it before unloading.

#include "bridge/answer_engine.h"
#include "bridge/attention_window.h"
#include "bridge/bridge_types.h"
#include "bridge/memory_probe.h"
#include "bridge/text_coalescer.h"

#include <hip/cancel.h>
#include <hip/engine.h>

#include <QObject>
#include <QString>
#include <QThread>
#include <QTimer>

#include <memory>
#include <optional>

namespace hip::ui {

class EngineWorker;

class EngineBridge final : public AnswerEngine {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineBridge)

public:
    static constexpr int kMemorySampleMs = 500; // the gauge's rate: twice a second

    explicit EngineBridge(QObject* parent = nullptr);
    // Cancels what runs and ends the engine thread. The close handler of the main window cancels
    // and waits for `idle` first, so by then the thread has nothing left to finish.
    ~EngineBridge() override;

    // The long operation running (model load, reading, answer, measurement), if any.
    std::optional<Operation> busyWith() const { return busyWith_; }
    bool isBusy() const override { return busyWith_.has_value(); }
    bool hasModel() const { return model_.has_value(); }
    const std::optional<ModelSummary>& model() const { return model_; }

    // Quick queries: they run between long operations.
    void estimateMemory(const hip::LoadOptions& options);
    // hip::Engine::planForDocument, answered in contextPlanned.
    void planContext(const hip::LoadOptions& options, qint64 documentTokens, bool attentionChosen);
    void countTokens(const DocumentPtr& document);
    void requestAttentionMask(int layer);
    // Replaces the conversation the model sees after the book (a saved chat, restored once the
    // book is read); a request queued after it sees the new conversation.
    void setHistory(const ChatTurns& turns) override;
    // The conversation the model sees now, in historyReported.
    void requestHistory();
    // How often memorySampled fires while a model is loaded.
    void setMemorySampleInterval(int msecs);

    // Long operations: each returns false, doing nothing, while another runs.
    bool loadModel(const hip::LoadOptions& options);
    bool readDocument(const DocumentPtr& document, bool onlyWhatFits);
    // With `history`, the conversation before the question is replaced first: regenerate asks
    // the last question again with the chat up to it, so the model does not see the old answer.
    bool ask(const QString& question, const hip::GenerateOptions& options,
             std::optional<ChatTurns> history = std::nullopt) override;
    bool measureLocality(int64_t contextTokens);
    bool measureWindow(const AttentionWindowRequest& request);

    // Stops the running long operation; its `failed` (cancelled) or result and `finished` follow.
    void cancel() override;

signals:
    void memoryEstimated(const hip::MemoryEstimate& estimate);
    void contextPlanned(const hip::ContextPlan& plan);
    void loadProgress(const QString& stage, qint64 done, qint64 total);
    void modelLoaded(const hip::ui::ModelSummary& summary);
    void tokensCounted(qint64 documentTokens, qint64 contextTokens);
    void readingProgress(const hip::doc::IngestEstimate& estimate);
    void documentRead(const hip::ui::DocumentTokensPtr& tokens, int pagesRead);
    // answerText, attentionUpdated, answerFinished, answerFailed and conversationCleared: see
    // AnswerEngine.
    void attentionMaskReady(const hip::ui::AttentionMaskPtr& mask);
    void measureProgress(const QString& stage, qint64 done, qint64 total);
    void localityMeasured(const hip::ui::LocalityReportPtr& report);
    void windowMeasured(const hip::ui::AttentionWindowPtr& window);
    void memorySampled(const hip::ui::MemorySample& sample);
    void historyReported(const hip::ui::ChatTurns& turns);
    void notice(const QString& message);
    // hip::ErrorCode::Cancelled when the user stopped it: not an error to report.
    void failed(hip::ui::Operation operation, const QString& message, hip::ErrorCode code);
    void finished(hip::ui::Operation operation);
    void busyChanged(bool busy);

private:
    bool begin(Operation operation);
    void onFinished(Operation operation);
    void sampleMemory();

    std::shared_ptr<MemoryProbe> memory_;
    QTimer memoryTimer_;
    QThread thread_;
    EngineWorker* worker_; // lives on thread_, deleted there when it ends
    std::optional<Operation> busyWith_;
    hip::CancelToken cancel_;
    std::optional<ModelSummary> model_;
    TextCoalescer answerText_;
};

} // namespace hip::ui
