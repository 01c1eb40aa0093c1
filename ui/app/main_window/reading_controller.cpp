#include "main_window/reading_controller.h"

#include "bridge/context_budget.h"
#include "bridge/engine_bridge.h"
#include "common/formatting.h"

namespace hip::ui {

ReadingController::ReadingController(EngineBridge& bridge, FitQuestion askReadPart, QObject* parent)
    : QObject(parent), bridge_(bridge), askReadPart_(std::move(askReadPart)) {
    connect(&bridge_, &EngineBridge::modelLoaded, this, [this](const ModelSummary& model) {
        tokens_.reset();
        longerContextAsked_ = false;
        emit contextChanged(model.contextTokens, -1, 0);
        start();
    });
    connect(&bridge_, &EngineBridge::tokensCounted, this, &ReadingController::onCounted);
    connect(&bridge_, &EngineBridge::readingProgress, this,
            [this](const doc::IngestEstimate& estimate) {
                if (document_)
                    emit progress(describe(document_->title, estimate), estimate.done,
                                  estimate.total);
            });
    connect(&bridge_, &EngineBridge::documentRead, this,
            [this](const DocumentTokensPtr& tokens, int pagesRead) {
                tokens_ = tokens;
                if (bridge_.model())
                    emit contextChanged(bridge_.model()->contextTokens, documentTokens_,
                                        tokens->count());
                emit read(tokens, pagesRead, document_ ? int(document_->pages.size()) : 0);
            });
    connect(&bridge_, &EngineBridge::failed, this,
            [this](Operation operation, const QString& message, hip::ErrorCode code) {
                if (operation != Operation::ReadDocument) return;
                if (code == hip::ErrorCode::Cancelled)
                    emit cancelled();
                else
                    emit failed(message);
            });
    // A start asked for while the engine was busy happens when it is free.
    connect(&bridge_, &EngineBridge::finished, this, [this] {
        if (wanted_) start();
    });
}

QString ReadingController::describe(const QString& title, const doc::IngestEstimate& e) {
    QString text = tr("Reading “%1” into the model: %2 / %3 tokens (%4%)")
                       .arg(title, formatCount(e.done), formatCount(e.total))
                       .arg(qRound(e.fraction() * 100));
    if (e.pages > 0)
        text += tr(" · %1 / %2 pages").arg(formatCount(e.pagesRead), formatCount(e.pages));
    if (e.tokensPerSecond > 0)
        text += tr(" · %1 tokens/s").arg(formatCount(qRound64(e.tokensPerSecond)));
    if (e.secondsLeft >= 0) text += tr(" · about %1 left").arg(formatDuration(e.secondsLeft));
    return text;
}

void ReadingController::setDocument(DocumentPtr document) {
    if (bridge_.busyWith() == Operation::ReadDocument) bridge_.cancel();
    document_ = std::move(document);
    tokens_.reset();
    documentTokens_ = -1;
    counting_ = false;
    longerContextAsked_ = false;
    if (bridge_.model()) emit contextChanged(bridge_.model()->contextTokens, -1, 0);
    start();
}

void ReadingController::start() {
    wanted_ = document_ != nullptr;
    if (!document_ || !bridge_.hasModel() || bridge_.isBusy() || counting_) return;
    wanted_ = false;
    counting_ = true;
    bridge_.countTokens(document_);
}

void ReadingController::onCounted(qint64 documentTokens, qint64 capacity) {
    if (!counting_) return;
    counting_ = false;
    // Counted by a model that is being replaced: the new one starts the reading again.
    if (!bridge_.model()) return;
    documentTokens_ = documentTokens;
    emit contextChanged(capacity, documentTokens, 0);
    const qint64 budget = documentTextBudget(bridge_.model()->documentTokenBudget);
    bool onlyWhatFits = false;
    if (documentTokens > budget && !longerContextAsked_) {
        longerContextAsked_ = true;
        emit needsLongerContext(document_->title, documentTokens);
        return;
    }
    if (documentTokens > budget) {
        const QString reason = tr("“%1” is %2 tokens, but the model's context holds %3 (%4 for the "
                                  "book, the rest is kept for "
                                  "questions and answers). About %5% of the book fits.\n\n"
                                  "Read the pages that fit? The rest of the book will not be in "
                                  "the model's context, and the window will say so. HiP attention "
                                  "reads past the model's trained context as far as memory holds: "
                                  "to read it whole, choose a HiP preset and the automatic "
                                  "context in Settings > Model, or a smaller model.")
                                   .arg(document_->title, formatCount(documentTokens),
                                        formatCount(capacity), formatCount(budget))
                                   .arg(int(100.0 * double(budget) / double(documentTokens)));
        if (!askReadPart_ || !askReadPart_(reason)) {
            emit failed(
                tr("“%1” was not read into the model: it is %2 tokens and the context holds %3.")
                    .arg(document_->title, formatCount(documentTokens), formatCount(capacity)));
            return;
        }
        onlyWhatFits = true;
    }
    // Reading replaces whatever the session held: until it succeeds, nothing of the book is in.
    tokens_.reset();
    if (!bridge_.readDocument(document_, onlyWhatFits)) wanted_ = true;
}

} // namespace hip::ui
