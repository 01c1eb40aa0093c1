#include "bridge/engine_bridge.h"

#include "bridge/engine_worker.h"

#include "handoff/handoff.h"

#include <QDateTime>

#include <type_traits>

namespace hip::ui {

namespace {

// Delivers the worker's `signal` to `slot` (a member of `receiver` or a function) on the
// receiver's thread. The arguments are copied on the engine thread into a queued call
// (handoff::queueCall), instead of by Qt's queued connection, so that ThreadSanitizer sees them
// handed over.
template <typename Receiver, typename... Args, typename Slot>
void relay(EngineWorker* worker, void (EngineWorker::*signal)(Args...), Receiver* receiver,
           Slot slot) {
    QObject::connect(
        worker, signal, worker,
        [receiver, slot](Args... args) {
            handoff::queueCall(receiver, [receiver, slot, ... copies = args] {
                if constexpr (std::is_member_function_pointer_v<Slot>)
                    (receiver->*slot)(copies...);
                else
                    slot(copies...);
            });
        },
        Qt::DirectConnection);
}

} // namespace

EngineBridge::EngineBridge(QObject* parent)
    : AnswerEngine(parent), memory_(std::make_shared<MemoryProbe>()),
      worker_(new EngineWorker(memory_)) {
    memoryTimer_.setInterval(kMemorySampleMs);
    connect(&memoryTimer_, &QTimer::timeout, this, &EngineBridge::sampleMemory);

    thread_.setObjectName(QStringLiteral("engine"));
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

    connect(&answerText_, &TextCoalescer::text, this, &EngineBridge::answerText);

    relay(worker_, &EngineWorker::memoryEstimated, this, &EngineBridge::memoryEstimated);
    relay(worker_, &EngineWorker::contextPlanned, this, &EngineBridge::contextPlanned);
    relay(worker_, &EngineWorker::loadProgress, this, &EngineBridge::loadProgress);
    relay(worker_, &EngineWorker::modelLoaded, this, [this](const ModelSummary& summary) {
        model_ = summary;
        emit modelLoaded(summary);
        memoryTimer_.start();
    });
    relay(worker_, &EngineWorker::tokensCounted, this, &EngineBridge::tokensCounted);
    relay(worker_, &EngineWorker::readingProgress, this, &EngineBridge::readingProgress);
    relay(worker_, &EngineWorker::documentRead, this,
          [this](const DocumentTokensPtr& tokens, int pagesRead) {
              emit documentRead(tokens, pagesRead);
              emit conversationCleared();
          });
    relay(worker_, &EngineWorker::answerPiece, &answerText_, &TextCoalescer::append);
    relay(worker_, &EngineWorker::attentionUpdated, this, &EngineBridge::attentionUpdated);
    relay(worker_, &EngineWorker::answerFinished, this, [this](const AnswerOutcome& outcome) {
        answerText_.flush();
        emit answerFinished(outcome);
    });
    relay(worker_, &EngineWorker::attentionMaskReady, this, &EngineBridge::attentionMaskReady);
    relay(worker_, &EngineWorker::measureProgress, this, &EngineBridge::measureProgress);
    relay(worker_, &EngineWorker::localityMeasured, this, &EngineBridge::localityMeasured);
    relay(worker_, &EngineWorker::windowMeasured, this, &EngineBridge::windowMeasured);
    relay(worker_, &EngineWorker::historyReported, this, &EngineBridge::historyReported);
    relay(worker_, &EngineWorker::notice, this, &EngineBridge::notice);
    relay(worker_, &EngineWorker::failed, this,
          [this](Operation operation, const QString& message, hip::ErrorCode code) {
              if (operation == Operation::LoadModel) model_.reset();
              if (operation == Operation::Answer) {
                  answerText_.flush();
                  emit answerFailed(message);
              }
              emit failed(operation, message, code);
          });
    relay(worker_, &EngineWorker::finished, this, &EngineBridge::onFinished);
    thread_.start();
}

EngineBridge::~EngineBridge() {
    cancel_.cancel();
    thread_.quit();
    thread_.wait();
}

bool EngineBridge::begin(Operation operation) {
    if (busyWith_) return false;
    busyWith_ = operation;
    cancel_ = hip::CancelToken();
    emit busyChanged(true);
    return true;
}

void EngineBridge::onFinished(Operation operation) {
    if (busyWith_ != operation) return; // a quick query finished
    busyWith_.reset();
    sampleMemory(); // what the operation left, at once
    emit finished(operation);
    emit busyChanged(false);
}

void EngineBridge::sampleMemory() {
    if (const std::optional<hip::MemoryReport> report = memory_->sample())
        emit memorySampled({QDateTime::currentMSecsSinceEpoch(), *report});
}

void EngineBridge::setMemorySampleInterval(int msecs) {
    memoryTimer_.setInterval(msecs);
}

void EngineBridge::cancel() {
    if (busyWith_) cancel_.cancel();
}

void EngineBridge::estimateMemory(const hip::LoadOptions& options) {
    handoff::queueCall(worker_, [w = worker_, options] { w->estimateMemory(options); });
}

void EngineBridge::planContext(const hip::LoadOptions& options, qint64 documentTokens,
                               bool attentionChosen) {
    handoff::queueCall(worker_, [w = worker_, options, documentTokens, attentionChosen] {
        w->planContext(options, documentTokens, attentionChosen);
    });
}

void EngineBridge::countTokens(const DocumentPtr& document) {
    handoff::queueCall(worker_, [w = worker_, document] { w->countTokens(document); });
}

void EngineBridge::requestAttentionMask(int layer) {
    handoff::queueCall(worker_, [w = worker_, layer] { w->attentionMask(layer); });
}

void EngineBridge::setHistory(const ChatTurns& turns) {
    handoff::queueCall(worker_, [w = worker_, turns] { w->setHistory(turns); });
}

void EngineBridge::requestHistory() {
    handoff::queueCall(worker_, [w = worker_] { w->reportHistory(); });
}

bool EngineBridge::loadModel(const hip::LoadOptions& options) {
    if (!begin(Operation::LoadModel)) return false;
    model_.reset();
    memoryTimer_.stop(); // the old engine goes; the new one is sampled once it is loaded
    handoff::queueCall(worker_,
                       [w = worker_, options, cancel = cancel_] { w->loadModel(options, cancel); });
    return true;
}

bool EngineBridge::readDocument(const DocumentPtr& document, bool onlyWhatFits) {
    if (!begin(Operation::ReadDocument)) return false;
    handoff::queueCall(worker_, [w = worker_, document, onlyWhatFits, cancel = cancel_] {
        w->readDocument(document, onlyWhatFits, cancel);
    });
    return true;
}

bool EngineBridge::ask(const QString& question, const hip::GenerateOptions& options,
                       std::optional<ChatTurns> history) {
    if (!begin(Operation::Answer)) return false;
    answerText_.clear();
    handoff::queueCall(worker_, [w = worker_, question, options, history = std::move(history),
                                 cancel = cancel_] { w->ask(question, options, history, cancel); });
    return true;
}

bool EngineBridge::measureLocality(int64_t contextTokens) {
    if (!begin(Operation::MeasureLocality)) return false;
    handoff::queueCall(worker_, [w = worker_, contextTokens, cancel = cancel_] {
        w->measureLocality(contextTokens, cancel);
    });
    return true;
}

bool EngineBridge::measureWindow(const AttentionWindowRequest& request) {
    if (!begin(Operation::MeasureWindow)) return false;
    handoff::queueCall(
        worker_, [w = worker_, request, cancel = cancel_] { w->measureWindow(request, cancel); });
    return true;
}

} // namespace hip::ui
