#include "bridge/engine_worker.h"

#include "bridge/attention_summary.h"
#include "bridge/context_budget.h"
#include "bridge/document_prefix.h"
#include "document/document_ingest.h"

#include <hip/evaluation.h>

#include <QDateTime>
#include <QTimer>

namespace hip::ui {
namespace {

constexpr int kMemorySampleMs = 500;      // the gauge's rate: twice a second
constexpr int kAttentionPublishMs = 1000; // sources refresh while an answer streams

QString fromStd(const std::string& text) {
    return QString::fromStdString(text);
}

} // namespace

EngineWorker::EngineWorker(QObject* parent) : QObject(parent), memoryTimer_(new QTimer(this)) {
    // A child: it moves to the worker's thread with the worker and fires there.
    memoryTimer_->setInterval(kMemorySampleMs);
    connect(memoryTimer_, &QTimer::timeout, this, &EngineWorker::sampleMemoryIfDue);
}

// The session holds a reference into the engine's state: it goes first.
EngineWorker::~EngineWorker() {
    session_.reset();
    engine_.reset();
}

void EngineWorker::fail(Operation operation, const hip::Status& status) {
    emit failed(operation, fromStd(status.message()), status.code());
}

void EngineWorker::sampleMemoryIfDue() {
    if (!engine_) return;
    if (sinceSample_.isValid() && sinceSample_.elapsed() < kMemorySampleMs - 50) return;
    sinceSample_.start();
    emit memorySampled({QDateTime::currentMSecsSinceEpoch(), engine_->memory()});
}

void EngineWorker::estimateMemory(const hip::LoadOptions& options) {
    auto estimate = hip::Engine::estimateMemory(options);
    if (estimate)
        emit memoryEstimated(*estimate);
    else
        fail(Operation::EstimateMemory, estimate.status());
    emit finished(Operation::EstimateMemory);
}

void EngineWorker::loadModel(hip::LoadOptions options, bool fallbackToCpu,
                             const hip::CancelToken& cancel) {
    // The old model goes first: holding two would need the memory of both.
    memoryTimer_->stop();
    session_.reset();
    engine_.reset();
    document_.reset();
    tokens_.reset();

    const auto progress = [this](const hip::Progress& p) {
        emit loadProgress(fromStd(p.stage), p.done, p.total);
    };
    options.allowCpuFallback = fallbackToCpu;
    auto engine = hip::Engine::load(options, progress, cancel);
    if (!engine) {
        fail(Operation::LoadModel, engine.status());
        emit finished(Operation::LoadModel);
        return;
    }
    engine_ = std::move(*engine);
    session_ = engine_->newSession();
    ModelSummary summary;
    summary.info = engine_->info();
    summary.attention = engine_->attention();
    summary.contextTokens = engine_->contextTokens();
    summary.device = fromStd(engine_->memory().device);
    // The engine names the device it runs on; a CPU fallback shows up as "CPU (n threads)".
    summary.onGpu =
        options.device == hip::Device::Cuda && !summary.device.startsWith(QLatin1String("CPU"));
    for (const std::string& warning : engine_->warnings())
        emit notice(tr("Note: %1.").arg(fromStd(warning)));
    emit modelLoaded(summary);
    sinceSample_.invalidate();
    sampleMemoryIfDue();
    memoryTimer_->start();
    emit finished(Operation::LoadModel);
}

void EngineWorker::countTokens(const DocumentPtr& document) {
    if (engine_ && document)
        emit tokensCounted(engine_->countTokens(document->text), engine_->contextTokens());
    emit finished(Operation::CountTokens);
}

int EngineWorker::pagesThatFit(const doc::DocumentText& document, int64_t budget) const {
    // Tokens per byte vary little within a book: guess from the whole, then check and step back.
    const int64_t total = engine_->countTokens(document.text);
    if (total <= budget) return int(document.pages.size());
    const double bytesPerToken = double(document.text.size()) / double(std::max<int64_t>(1, total));
    auto pagesWithin = [&](double bytes) {
        int pages = 0;
        while (size_t(pages) < document.pages.size() &&
               double(document.pageRange(pages).end) <= bytes)
            ++pages;
        return pages;
    };
    int pages = pagesWithin(double(budget) * bytesPerToken);
    while (pages > 0) {
        const uint64_t end = document.pageRange(pages - 1).end;
        if (engine_->countTokens(document.text.substr(0, end)) <= budget) break;
        pages = std::min(pages - 1, pagesWithin(double(end) * 0.95));
    }
    return pages;
}

void EngineWorker::readDocument(const DocumentPtr& document, bool onlyWhatFits,
                                const hip::CancelToken& cancel) {
    if (!session_ || !document) {
        emit failed(Operation::ReadDocument, tr("Load a model before reading a document."),
                    hip::ErrorCode::InvalidArgument);
        emit finished(Operation::ReadDocument);
        return;
    }
    // Forget the previous document first, so that a failed read leaves no stale mapping.
    document_.reset();
    tokens_.reset();
    DocumentPtr toRead = document;
    int pages = int(document->pages.size());
    if (onlyWhatFits) {
        pages = pagesThatFit(*document, documentTokenBudget(engine_->contextTokens()));
        if (pages < int(document->pages.size()))
            toRead = std::make_shared<const doc::DocumentText>(firstPages(*document, pages));
        if (pages == 0) {
            emit failed(Operation::ReadDocument,
                        tr("Not even the first page fits the model's context of %L1 tokens.")
                            .arg(engine_->contextTokens()),
                        hip::ErrorCode::InvalidArgument);
            emit finished(Operation::ReadDocument);
            return;
        }
    }
    auto read = doc::ingestDocument(
        *session_, *toRead,
        [&](const doc::IngestEstimate& estimate) {
            emit readingProgress(estimate);
            sampleMemoryIfDue();
        },
        cancel);
    if (read) {
        document_ = toRead;
        tokens_ = std::make_shared<const doc::DocumentTokens>(std::move(*read));
        emit documentRead(tokens_, pages);
    } else {
        fail(Operation::ReadDocument, read.status());
    }
    sampleMemoryIfDue();
    emit finished(Operation::ReadDocument);
}

void EngineWorker::publishAttention() {
    if (!document_ || !tokens_) return;
    emit attentionUpdated(std::make_shared<const AttentionSummary>(
        summarizeAttention(*document_, *tokens_, session_->trace())));
}

void EngineWorker::ask(const QString& question, const hip::GenerateOptions& options,
                       const hip::CancelToken& cancel) {
    if (!session_) {
        emit failed(Operation::Answer, tr("Load a model before asking."),
                    hip::ErrorCode::InvalidArgument);
        emit finished(Operation::Answer);
        return;
    }
    QElapsedTimer sincePublish;
    sincePublish.start();
    const auto sink = [&](std::string_view piece) {
        emit answerPiece(QString::fromUtf8(piece.data(), qsizetype(piece.size())));
        sampleMemoryIfDue();
        if (sincePublish.elapsed() >= kAttentionPublishMs) {
            publishAttention();
            sincePublish.restart();
        }
        return true;
    };
    auto answer = session_->ask(question.toStdString(), options, sink, cancel);
    if (!answer) {
        fail(Operation::Answer, answer.status());
        emit finished(Operation::Answer);
        return;
    }
    AnswerOutcome outcome;
    outcome.text = fromStd(answer->text);
    outcome.stopReason = answer->stopReason;
    outcome.stats = answer->stats;
    if (document_ && tokens_ && answer->stats.generatedTokens > 0) {
        outcome.attention = std::make_shared<const AttentionSummary>(
            summarizeAttention(*document_, *tokens_, session_->trace()));
    }
    sampleMemoryIfDue();
    emit answerFinished(outcome);
    emit finished(Operation::Answer);
}

void EngineWorker::attentionMask(int layer, int keyBins) {
    if (engine_ && session_) {
        MaskRequest request;
        request.layer = layer;
        request.keyBins = keyBins;
        request.contextTokens = session_->cachedTokens();
        request.attention = engine_->attention();
        if (tokens_) {
            request.documentBegin = tokens_->firstPosition();
            request.documentEnd = tokens_->endPosition();
        }
        emit attentionMaskReady(
            std::make_shared<const AttentionMask>(rasterizeMask(session_->trace(), request)));
    }
    emit finished(Operation::AttentionMask);
}

void EngineWorker::measureLocality(int64_t contextTokens, const hip::CancelToken& cancel) {
    if (!engine_ || !document_) {
        emit failed(Operation::MeasureLocality,
                    tr("Read a document into the model first: locality is measured on its text."),
                    hip::ErrorCode::InvalidArgument);
        emit finished(Operation::MeasureLocality);
        return;
    }
    hip::eval::LocalityOptions options;
    options.text = document_->text;
    options.contextTokens = std::min(contextTokens, tokens_ ? tokens_->count() : contextTokens);
    auto report = hip::eval::measureLocality(
        *engine_, options,
        [this](const hip::Progress& p) {
            emit measureProgress(fromStd(p.stage), p.done, p.total);
            sampleMemoryIfDue();
        },
        cancel);
    if (report)
        emit localityMeasured(std::make_shared<const hip::eval::LocalityReport>(*report));
    else
        fail(Operation::MeasureLocality, report.status());
    emit finished(Operation::MeasureLocality);
}

void EngineWorker::measureWindow(const AttentionWindowRequest& request,
                                 const hip::CancelToken& cancel) {
    if (!engine_) {
        emit failed(Operation::MeasureWindow, tr("Load a model first."),
                    hip::ErrorCode::InvalidArgument);
        emit finished(Operation::MeasureWindow);
        return;
    }
    AttentionWindowRequest withText = request;
    if (withText.text.empty() && document_) withText.text = document_->text;
    auto window = measureAttentionWindow(
        *engine_, withText,
        [this](const hip::Progress& p) { emit measureProgress(fromStd(p.stage), p.done, p.total); },
        cancel);
    if (window)
        emit windowMeasured(std::make_shared<const AttentionWindow>(std::move(*window)));
    else
        fail(Operation::MeasureWindow, window.status());
    emit finished(Operation::MeasureWindow);
}

} // namespace hip::ui
