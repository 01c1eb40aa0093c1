#include "bridge/engine_bridge.h"

#include "bridge/engine_worker.h"

#include <QDateTime>

namespace hip::ui {

EngineBridge::EngineBridge(QObject* parent)
    : AnswerEngine(parent), memory_(std::make_shared<MemoryProbe>()),
      worker_(new EngineWorker(memory_)) {
    memoryTimer_.setInterval(kMemorySampleMs);
    connect(&memoryTimer_, &QTimer::timeout, this, &EngineBridge::sampleMemory);

    thread_.setObjectName(QStringLiteral("engine"));
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

    connect(&answerText_, &TextCoalescer::text, this, &EngineBridge::answerText);

    // Results cross to the GUI thread queued (the worker lives on another thread).
    connect(worker_, &EngineWorker::memoryEstimated, this, &EngineBridge::memoryEstimated);
    connect(worker_, &EngineWorker::contextPlanned, this, &EngineBridge::contextPlanned);
    connect(worker_, &EngineWorker::loadProgress, this, &EngineBridge::loadProgress);
    connect(worker_, &EngineWorker::modelLoaded, this, [this](const ModelSummary& summary) {
        model_ = summary;
        emit modelLoaded(summary);
        memoryTimer_.start();
    });
    connect(worker_, &EngineWorker::tokensCounted, this, &EngineBridge::tokensCounted);
    connect(worker_, &EngineWorker::readingProgress, this, &EngineBridge::readingProgress);
    connect(worker_, &EngineWorker::documentRead, this,
            [this](const DocumentTokensPtr& tokens, int pagesRead) {
                emit documentRead(tokens, pagesRead);
                emit conversationCleared();
            });
    connect(worker_, &EngineWorker::answerPiece, &answerText_, &TextCoalescer::append);
    connect(worker_, &EngineWorker::attentionUpdated, this, &EngineBridge::attentionUpdated);
    connect(worker_, &EngineWorker::answerFinished, this, [this](const AnswerOutcome& outcome) {
        answerText_.flush();
        emit answerFinished(outcome);
    });
    connect(worker_, &EngineWorker::attentionMaskReady, this, &EngineBridge::attentionMaskReady);
    connect(worker_, &EngineWorker::measureProgress, this, &EngineBridge::measureProgress);
    connect(worker_, &EngineWorker::localityMeasured, this, &EngineBridge::localityMeasured);
    connect(worker_, &EngineWorker::windowMeasured, this, &EngineBridge::windowMeasured);
    connect(worker_, &EngineWorker::historyReported, this, &EngineBridge::historyReported);
    connect(worker_, &EngineWorker::notice, this, &EngineBridge::notice);
    connect(worker_, &EngineWorker::failed, this,
            [this](Operation operation, const QString& message, hip::ErrorCode code) {
                if (operation == Operation::LoadModel) model_.reset();
                if (operation == Operation::Answer) {
                    answerText_.flush();
                    emit answerFailed(message);
                }
                emit failed(operation, message, code);
            });
    connect(worker_, &EngineWorker::finished, this, &EngineBridge::onFinished);
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
    QMetaObject::invokeMethod(
        worker_, [w = worker_, options] { w->estimateMemory(options); }, Qt::QueuedConnection);
}

void EngineBridge::planContext(const hip::LoadOptions& options, qint64 documentTokens,
                               bool attentionChosen) {
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, options, documentTokens, attentionChosen] {
            w->planContext(options, documentTokens, attentionChosen);
        },
        Qt::QueuedConnection);
}

void EngineBridge::countTokens(const DocumentPtr& document) {
    QMetaObject::invokeMethod(
        worker_, [w = worker_, document] { w->countTokens(document); }, Qt::QueuedConnection);
}

void EngineBridge::requestAttentionMask(int layer) {
    QMetaObject::invokeMethod(
        worker_, [w = worker_, layer] { w->attentionMask(layer); }, Qt::QueuedConnection);
}

void EngineBridge::setHistory(const ChatTurns& turns) {
    QMetaObject::invokeMethod(
        worker_, [w = worker_, turns] { w->setHistory(turns); }, Qt::QueuedConnection);
}

void EngineBridge::requestHistory() {
    QMetaObject::invokeMethod(
        worker_, [w = worker_] { w->reportHistory(); }, Qt::QueuedConnection);
}

bool EngineBridge::loadModel(const hip::LoadOptions& options) {
    if (!begin(Operation::LoadModel)) return false;
    model_.reset();
    memoryTimer_.stop(); // the old engine goes; the new one is sampled once it is loaded
    QMetaObject::invokeMethod(
        worker_, [w = worker_, options, cancel = cancel_] { w->loadModel(options, cancel); },
        Qt::QueuedConnection);
    return true;
}

bool EngineBridge::readDocument(const DocumentPtr& document, bool onlyWhatFits) {
    if (!begin(Operation::ReadDocument)) return false;
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, document, onlyWhatFits, cancel = cancel_] {
            w->readDocument(document, onlyWhatFits, cancel);
        },
        Qt::QueuedConnection);
    return true;
}

bool EngineBridge::ask(const QString& question, const hip::GenerateOptions& options,
                       std::optional<ChatTurns> history) {
    if (!begin(Operation::Answer)) return false;
    answerText_.clear();
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, question, options, history = std::move(history), cancel = cancel_] {
            w->ask(question, options, history, cancel);
        },
        Qt::QueuedConnection);
    return true;
}

bool EngineBridge::measureLocality(int64_t contextTokens) {
    if (!begin(Operation::MeasureLocality)) return false;
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, contextTokens, cancel = cancel_] {
            w->measureLocality(contextTokens, cancel);
        },
        Qt::QueuedConnection);
    return true;
}

bool EngineBridge::measureWindow(const AttentionWindowRequest& request) {
    if (!begin(Operation::MeasureWindow)) return false;
    QMetaObject::invokeMethod(
        worker_, [w = worker_, request, cancel = cancel_] { w->measureWindow(request, cancel); },
        Qt::QueuedConnection);
    return true;
}

} // namespace hip::ui
