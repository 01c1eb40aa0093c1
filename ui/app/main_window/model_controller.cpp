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
    connect(&bridge_, &EngineBridge::failed, this, &ModelController::onFailed);
}

QString ModelController::describeEstimate(const hip::MemoryEstimate& e) {
    return tr("The model needs about %1 (weights %2, KV cache for %3 tokens %4, scratch %5); %6 "
              "%7.")
        .arg(formatBytes(e.totalBytes()), formatBytes(e.weightBytes), formatCount(e.contextTokens),
             formatBytes(e.kvBytes), formatBytes(e.scratchBytes), formatBytes(e.availableBytes),
             e.limitedByBudget ? tr("allowed by the GPU memory budget") : tr("available"));
}

void ModelController::load() {
    if (bridge_.isBusy() || pending_) return;
    const DevicePreference preference = settings_.device();
    pending_ = settings_.loadOptions(preference == DevicePreference::Cpu ? hip::Device::Cpu
                                                                         : hip::Device::Cuda);
    bridge_.estimateMemory(*pending_);
}

void ModelController::onEstimate(const hip::MemoryEstimate& estimate) {
    if (!pending_) return;
    hip::LoadOptions options = *std::exchange(pending_, std::nullopt);
    const bool fits = estimate.fits();
    const QString description = describeEstimate(estimate);
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
    const bool fallback = settings_.device() == DevicePreference::Auto;
    if (!bridge_.loadModel(options, fallback))
        emit failed(tr("The engine is busy; try again when it is done."));
}

void ModelController::onFailed(Operation operation, const QString& message, hip::ErrorCode code) {
    if (operation == Operation::EstimateMemory && pending_) {
        pending_.reset();
        emit failed(modelErrorMessage(settings_.effectiveModelPath(), message, code));
    } else if (operation == Operation::LoadModel && code != hip::ErrorCode::Cancelled) {
        emit failed(modelErrorMessage(settings_.effectiveModelPath(), message, code));
    }
}

} // namespace hip::ui
