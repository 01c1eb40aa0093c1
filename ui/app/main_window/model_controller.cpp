#include "main_window/model_controller.h"

#include "bridge/engine_bridge.h"
#include "common/formatting.h"

#include <QDir>
#include <QFileInfo>

namespace hip::ui {

QString modelErrorMessage(const QString& modelPath, const QString& message, hip::ErrorCode code) {
    if (code == hip::ErrorCode::NotFound && !QFileInfo::exists(modelPath))
        return ModelController::tr(
                   "The model file %1 does not exist. Choose a model in Settings > Model, "
                   "or run scripts/setup to download the default model.")
            .arg(QDir::toNativeSeparators(modelPath));
    if (code == hip::ErrorCode::InvalidFile || code == hip::ErrorCode::Unsupported)
        return ModelController::tr(
                   "The model cannot be used: %1\nChoose another model in Settings > Model.")
            .arg(message);
    if (code == hip::ErrorCode::OutOfMemory)
        return ModelController::tr("The model does not fit in memory: %1").arg(message);
    return ModelController::tr("The model could not be loaded: %1").arg(message);
}

ModelController::ModelController(EngineBridge& bridge, AppSettings& settings,
                                 OverrideQuestion askOverride, QObject* parent)
    : QObject(parent), bridge_(bridge), settings_(settings), askOverride_(std::move(askOverride)) {
    connect(&bridge_, &EngineBridge::memoryEstimated, this, &ModelController::onEstimate);
    connect(&bridge_, &EngineBridge::contextPlanned, this, &ModelController::onPlanned);
    connect(&bridge_, &EngineBridge::failed, this, &ModelController::onFailed);
}

QString ModelController::describeEstimate(const hip::MemoryEstimate& e) {
    return tr("The model needs about %1 on the %2 (weights %3, KV cache for %4 tokens %5, scratch "
              "%6); %7 %8.")
        .arg(formatBytes(e.totalBytes()), e.device == hip::Device::Cuda ? tr("GPU") : tr("CPU"),
             formatBytes(e.weightBytes), formatCount(e.contextTokens), formatBytes(e.kvBytes),
             formatBytes(e.scratchBytes), formatBytes(e.availableBytes),
             e.limitedByBudget ? tr("allowed by the GPU memory budget") : tr("available"));
}

bool ModelController::load() {
    if (bridge_.isBusy() || pending_ || planning_) return false;
    pending_ = settings_.loadOptions();
    emit started();
    bridge_.estimateMemory(*pending_);
    return true;
}

bool ModelController::fitDocument(const QString& title, qint64 documentTokens) {
    if (bridge_.isBusy() || pending_ || planning_ || !bridge_.hasModel()) return false;
    planning_ = PendingPlan{title, documentTokens};
    // The settings' attention is a choice (its default is HiP); their context is one when set.
    bridge_.planContext(settings_.loadOptions(), documentTokens, true);
    return true;
}

void ModelController::onPlanned(const hip::ContextPlan& plan) {
    if (!planning_) return;
    const PendingPlan request = *std::exchange(planning_, std::nullopt);
    const std::optional<ModelSummary>& model = bridge_.model();
    if (!model || bridge_.isBusy() ||
        (plan.contextTokens <= model->contextTokens && plan.attention == model->attention)) {
        emit contextKept();
        return;
    }
    emit started();
    const QString description =
        tr("“%1” is %2 tokens, more than the model's context of %3 holds: loading the model "
           "again with %4 attention and a context of %5 tokens%6. %7")
            .arg(request.title, formatCount(request.documentTokens),
                 formatCount(model->contextTokens), QString::fromStdString(plan.attention.name),
                 formatCount(plan.contextTokens),
                 plan.wholeDocument ? QString() : tr(" (as much as memory holds)"),
                 describeEstimate(plan.estimate));
    loadIfItFits(hip::withPlan(settings_.loadOptions(), plan), plan.estimate, description);
}

void ModelController::onEstimate(const hip::MemoryEstimate& estimate) {
    if (!pending_) return;
    loadIfItFits(*std::exchange(pending_, std::nullopt), estimate, describeEstimate(estimate));
}

void ModelController::loadIfItFits(hip::LoadOptions options, const hip::MemoryEstimate& estimate,
                                   const QString& description) {
    const bool fits = estimate.fits();
    emit estimated(description, fits);
    if (!fits) {
        const QString reason =
            tr("%1 It will not fit: loading it could make the computer swap or fail. Choose a "
               "shorter context or a smaller model in Settings, or load it anyway.")
                .arg(description);
        if (!askOverride_ || !askOverride_(reason)) {
            emit failed(tr("The model was not loaded: it needs more memory than is available."));
            return;
        }
        options.allowOverMemory = true;
    }
    if (!bridge_.loadModel(options))
        emit failed(tr("The engine is busy; try again when it is done."));
}

void ModelController::onFailed(Operation operation, const QString& message, hip::ErrorCode code) {
    if (operation == Operation::PlanContext && planning_) {
        // The loaded model stays; `failed` lets the book be read as far as its context goes.
        planning_.reset();
        emit failed(modelErrorMessage(settings_.effectiveModelPath(), message, code));
    } else if (operation == Operation::EstimateMemory && pending_) {
        pending_.reset();
        emit failed(modelErrorMessage(settings_.effectiveModelPath(), message, code));
    } else if (operation == Operation::LoadModel && code != hip::ErrorCode::Cancelled) {
        emit failed(modelErrorMessage(settings_.effectiveModelPath(), message, code));
    }
}

} // namespace hip::ui
