#pragma once
// The engine's side of the bridge: a QObject living on its own thread that owns the Engine and the
// Session. The GUI never calls it directly: EngineBridge queues each request onto the worker's
// thread, and the worker answers through signals (queued back to the GUI thread). One request runs
// at a time; each ends with `finished(operation)` after its result or its error. The loaded engine
// is also attached to a MemoryProbe, which the GUI samples without going through the worker.

#include "bridge/attention_mask.h"
#include "bridge/attention_window.h"
#include "bridge/bridge_types.h"
#include "bridge/memory_probe.h"

#include <hip/engine.h>
#include <hip/session.h>

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace hip::ui {

class EngineWorker final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineWorker)

public:
    // `memory` is where the loaded engine is published for sampling (shared with the GUI).
    explicit EngineWorker(std::shared_ptr<MemoryProbe> memory, QObject* parent = nullptr);
    ~EngineWorker() override;

    // Requests (run on the worker's thread).
    void estimateMemory(const hip::LoadOptions& options);
    void planContext(const hip::LoadOptions& options, qint64 documentTokens, bool attentionChosen);
    // What the load did differently from what was asked (e.g. the CPU for a GPU that cannot be
    // used) comes as a `notice`.
    void loadModel(const hip::LoadOptions& options, const hip::CancelToken& cancel);
    void countTokens(const hip::ui::DocumentPtr& document);
    // With `onlyWhatFits`, a document longer than the context is read up to the last page that
    // fits (documentRead says how many pages); otherwise it is refused.
    void readDocument(const hip::ui::DocumentPtr& document, bool onlyWhatFits,
                      const hip::CancelToken& cancel);
    // With `history`, the conversation before the question is replaced first (regenerate: the
    // chat without the answer being replaced), so the model sees exactly that. Either way the
    // oldest exchanges that would leave no room for the question and its answer are left out,
    // and `notice` says so.
    void ask(const QString& question, const hip::GenerateOptions& options,
             const std::optional<hip::ui::ChatTurns>& history, const hip::CancelToken& cancel);
    // Replaces the conversation after the document (a saved chat restored once the book is read).
    // The oldest exchanges that would leave no room for a question and its answer are left out,
    // and `notice` says so.
    void setHistory(const hip::ui::ChatTurns& turns);
    // Reports the conversation the model sees (historyReported).
    void reportHistory();
    void attentionMask(int layer);
    void measureLocality(int64_t contextTokens, const hip::CancelToken& cancel);
    void measureWindow(const hip::ui::AttentionWindowRequest& request,
                       const hip::CancelToken& cancel);

signals:
    void memoryEstimated(const hip::MemoryEstimate& estimate);
    void contextPlanned(const hip::ContextPlan& plan);
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
    void historyReported(const hip::ui::ChatTurns& turns);
    // Something the user should know that is not an error (a fallback taken).
    void notice(const QString& message);
    // hip::ErrorCode::Cancelled when the user stopped it: not an error to report.
    void failed(hip::ui::Operation operation, const QString& message, hip::ErrorCode code);
    void finished(hip::ui::Operation operation);

private:
    void fail(Operation operation, const hip::Status& status);
    // `turns` less its oldest exchanges, so that the document, the conversation and a question
    // with its answer fit the context (the room Engine::documentTokenBudget() keeps). A
    // conversation over its room keeps at most `keptShare` of it. `dropped` gets the number of
    // turns left out.
    hip::ui::ChatTurns fitHistory(hip::ui::ChatTurns turns, double keptShare, int* dropped) const;
    void publishAttention();
    // The number of leading pages of `document` whose tokens fit `budget`.
    int pagesThatFit(const doc::DocumentText& document, int64_t budget) const;

    // Drops the session, then the engine (the session holds a reference into it), after the
    // memory probe has let go of it.
    void unload();

    std::shared_ptr<MemoryProbe> memory_;
    std::unique_ptr<hip::Engine> engine_;
    std::unique_ptr<hip::Session> session_;
    DocumentPtr document_;
    DocumentTokensPtr tokens_;
    int64_t documentEnd_ = 0; // KV tokens of the document's system turn (0: no document read)
};

} // namespace hip::ui
