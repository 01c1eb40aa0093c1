#include "bridge/engine_worker.h"

#include "bridge/attention_summary.h"
#include "bridge/context_budget.h"
#include "bridge/document_prefix.h"
#include "document/document_ingest.h"
#include "document/page_positions.h"

#include <hip/evaluation.h>

#include <QElapsedTimer>

namespace hip::ui {
namespace {

constexpr int kAttentionPublishMs = 1000; // sources refresh while an answer streams
// What a turn costs besides its text: the chat template's role markers and separators.
constexpr int64_t kTurnOverheadTokens = 8;
// The share of its room a conversation that outgrew it keeps while answering.
constexpr double kKeptAfterOverflow = 0.5;

QString fromStd(const std::string& text) {
    return QString::fromStdString(text);
}

} // namespace

EngineWorker::EngineWorker(std::shared_ptr<MemoryProbe> memory, QObject* parent)
    : QObject(parent), memory_(std::move(memory)) {}

EngineWorker::~EngineWorker() {
    unload();
}

void EngineWorker::unload() {
    memory_->detach();
    session_.reset();
    engine_.reset();
    document_.reset();
    tokens_.reset();
    documentEnd_ = 0;
}

void EngineWorker::fail(Operation operation, const hip::Status& status) {
    emit failed(operation, fromStd(status.message()), status.code());
}

void EngineWorker::estimateMemory(const hip::LoadOptions& options) {
    auto estimate = hip::Engine::estimateMemory(options);
    if (estimate)
        emit memoryEstimated(*estimate);
    else
        fail(Operation::EstimateMemory, estimate.status());
    emit finished(Operation::EstimateMemory);
}

void EngineWorker::planContext(const hip::LoadOptions& options, qint64 documentTokens,
                               bool attentionChosen) {
    auto plan = hip::Engine::planForDocument(options, documentTokens, attentionChosen);
    if (plan)
        emit contextPlanned(*plan);
    else
        fail(Operation::PlanContext, plan.status());
    emit finished(Operation::PlanContext);
}

void EngineWorker::loadModel(const hip::LoadOptions& options, const hip::CancelToken& cancel) {
    // The old model goes first: holding two would need the memory of both.
    unload();

    const auto progress = [this](const hip::Progress& p) {
        emit loadProgress(fromStd(p.stage), p.done, p.total);
    };
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
    summary.documentTokenBudget = engine_->documentTokenBudget();
    summary.device = fromStd(engine_->memory().device);
    summary.onGpu = engine_->device() == hip::Device::Cuda;
    for (const std::string& warning : engine_->warnings())
        emit notice(tr("Note: %1.").arg(fromStd(warning)));
    memory_->attach(*engine_);
    emit modelLoaded(summary);
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
    documentEnd_ = 0;
    DocumentPtr toRead = document;
    int pages = int(document->pages.size());
    if (onlyWhatFits) {
        pages = pagesThatFit(*document, documentTextBudget(engine_->documentTokenBudget()));
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
        [&](const doc::IngestEstimate& estimate) { emit readingProgress(estimate); }, cancel);
    if (read) {
        document_ = toRead;
        tokens_ = std::make_shared<const doc::DocumentTokens>(std::move(*read));
        documentEnd_ = session_->cachedTokens();
        emit documentRead(tokens_, pages);
    } else {
        fail(Operation::ReadDocument, read.status());
    }
    emit finished(Operation::ReadDocument);
}

void EngineWorker::publishAttention() {
    if (!document_ || !tokens_) return;
    emit attentionUpdated(std::make_shared<const AttentionSummary>(
        summarizeAttention(*document_, *tokens_, session_->trace())));
}

ChatTurns EngineWorker::fitHistory(ChatTurns turns, double keptShare, int* dropped) const {
    // The room Engine::documentTokenBudget() leaves after the document stays free for the next
    // question and its answer; the conversation gets what the document does not take of the rest.
    const int64_t room = engine_->documentTokenBudget() - documentEnd_;
    std::vector<int64_t> cost;
    cost.reserve(turns.size());
    int64_t total = 0;
    for (const hip::ChatTurn& turn : turns) {
        cost.push_back(engine_->countTokens(turn.content) + kTurnOverheadTokens);
        total += cost.back();
    }
    const int64_t limit = total > room ? int64_t(double(room) * keptShare) : room;
    size_t first = 0;
    // Whole exchanges go: the conversation still starts with a question.
    while (first < turns.size() && (total > limit || turns[first].role != "user"))
        total -= cost[first++];
    *dropped = int(first);
    turns.erase(turns.begin(), turns.begin() + ptrdiff_t(first));
    return turns;
}

void EngineWorker::setHistory(const ChatTurns& turns) {
    if (session_) {
        int dropped = 0;
        session_->setHistory(fitHistory(turns, 1.0, &dropped));
        const int kept = int(turns.size()) - dropped;
        if (dropped > 0 && kept == 0)
            emit notice(tr("The saved chat does not fit in the model's context besides the book: "
                           "it is shown, but the model does not see it."));
        else if (dropped > 0)
            emit notice(tr("Only the last %n message(s) of the saved chat fit in the model's "
                           "context besides the book: the earlier ones are shown, but the model "
                           "does not see them.",
                           nullptr, kept));
    }
    emit finished(Operation::SetHistory);
}

void EngineWorker::reportHistory() {
    emit historyReported(session_ ? session_->history() : ChatTurns());
    emit finished(Operation::ReportHistory);
}

void EngineWorker::ask(const QString& question, const hip::GenerateOptions& options,
                       const std::optional<ChatTurns>& history, const hip::CancelToken& cancel) {
    if (!session_) {
        emit failed(Operation::Answer, tr("Load a model before asking."),
                    hip::ErrorCode::InvalidArgument);
        emit finished(Operation::Answer);
        return;
    }
    // The conversation grows with every answer: its oldest exchanges leave the model's view once
    // it would crowd out the question and its answer, or every later question would fail. Half
    // the room is freed at once, since the shortened conversation is read again from its start.
    int dropped = 0;
    ChatTurns fitted =
        fitHistory(history ? *history : session_->history(), kKeptAfterOverflow, &dropped);
    if (history || dropped > 0) session_->setHistory(std::move(fitted));
    if (!history && dropped > 0)
        emit notice(tr("The chat has grown past the model's context besides the book: the model "
                       "no longer sees its oldest %n message(s).",
                       nullptr, dropped));
    QElapsedTimer sincePublish;
    sincePublish.start();
    const auto sink = [&](std::string_view piece) {
        emit answerPiece(QString::fromUtf8(piece.data(), qsizetype(piece.size())));
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
    emit answerFinished(outcome);
    emit finished(Operation::Answer);
}

void EngineWorker::attentionMask(int layer) {
    if (engine_ && session_) {
        MaskRequest request;
        request.layer = layer;
        request.contextTokens = session_->cachedTokens();
        request.attention = engine_->attention();
        request.crossover = engine_->denseCrossover();
        if (tokens_) {
            request.documentBegin = tokens_->firstPosition();
            request.documentEnd = tokens_->endPosition();
            if (document_) {
                request.pageStarts = doc::pageStartPositions(*document_, *tokens_);
                for (int page = 0; page < int(document_->pages.size()); ++page)
                    request.pageNames.push_back(document_->pageName(page));
            }
        }
        emit attentionMaskReady(std::make_shared<const AttentionMask>(
            layerMask(session_->trace(), std::move(request))));
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
        [this](const hip::Progress& p) { emit measureProgress(fromStd(p.stage), p.done, p.total); },
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
