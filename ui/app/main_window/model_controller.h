#pragma once
// Loading the model as the settings say: first the memory estimate (shown to the user), then the
// check against what is free (or the GPU budget, which the engine also enforces), and a load that
// would not fit only when the user overrides the refusal. A missing or unusable model file ends in
// a message saying what to do.

#include "bridge/bridge_types.h"
#include "settings/app_settings.h"

#include <hip/engine.h>

#include <QObject>

#include <functional>
#include <optional>

namespace hip::ui {

class EngineBridge;

class ModelController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelController)

public:
    // Asked with the reason when the estimate does not fit; true loads anyway.
    using OverrideQuestion = std::function<bool(const QString& reason)>;

    ModelController(EngineBridge& bridge, AppSettings& settings, OverrideQuestion askOverride,
                    QObject* parent = nullptr);

    // Starts estimate, check and load. Does nothing while the engine is busy.
    void load();
    bool isEstimating() const { return pending_.has_value(); }

    // "needs about 471 MiB (weights …); 21.9 GiB available": for the activity bar and tests.
    static QString describeEstimate(const hip::MemoryEstimate& estimate);

signals:
    void estimated(const QString& description, bool fits);
    // The load could not start or failed; `message` says what to do about it.
    void failed(const QString& message);

private:
    void onEstimate(const hip::MemoryEstimate& estimate);
    void onFailed(Operation operation, const QString& message, hip::ErrorCode code);

    EngineBridge& bridge_;
    AppSettings& settings_;
    OverrideQuestion askOverride_;
    std::optional<hip::LoadOptions> pending_;
};

// Rewrites an engine error about the model file as something a person can act on.
QString modelErrorMessage(const QString& modelPath, const QString& message, hip::ErrorCode code);

} // namespace hip::ui
