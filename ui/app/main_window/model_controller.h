#pragma once
// Loading the model as the settings say: first the memory estimate for the device the load will
// use (shown to the user), then the check against what is free (or the GPU budget, which the
// engine also enforces), and a load that would not fit only when the user overrides the refusal.
// A book longer than the loaded model's context loads the model again with the attention and
// context hip::planContext gives it (the settings' context, when set, stays), estimate shown. A
// missing or unusable model file ends in a message saying what to do.

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

    // Starts estimate, check and load; false, doing nothing, while the engine is busy. Every
    // start ends in the bridge's modelLoaded, or in `failed` (the bridge's, for a cancelled load).
    bool load();
    // Plans the context for a book of `documentTokens` text tokens; when the plan reads more of
    // it than the loaded model, shows its estimate and loads the model with it, else emits
    // contextKept. False, doing nothing, while the engine is busy or no model is loaded.
    bool fitDocument(const QString& title, qint64 documentTokens);

    // "needs about 471 MiB (weights …); 21.9 GiB available": for the activity bar and tests.
    static QString describeEstimate(const hip::MemoryEstimate& estimate);

signals:
    void started(); // a load (estimate first) begins
    void estimated(const QString& description, bool fits);
    // fitDocument found no longer context to load: the loaded model stays.
    void contextKept();
    // The load (or a plan for a book) could not start or failed; `message` says what to do about
    // it. A model loaded before stays loaded unless the load itself had begun.
    void failed(const QString& message);

private:
    void onEstimate(const hip::MemoryEstimate& estimate);
    void onPlanned(const hip::ContextPlan& plan);
    // Loads with `options` when `estimate` fits or the user overrides the refusal.
    void loadIfItFits(hip::LoadOptions options, const hip::MemoryEstimate& estimate,
                      const QString& description);
    void onFailed(Operation operation, const QString& message, hip::ErrorCode code);

    EngineBridge& bridge_;
    AppSettings& settings_;
    OverrideQuestion askOverride_;
    std::optional<hip::LoadOptions> pending_; // estimating for a load
    struct PendingPlan {
        QString title;
        qint64 documentTokens = 0;
    };
    std::optional<PendingPlan> planning_;
};

// Rewrites an engine error about the model file as something a person can act on.
QString modelErrorMessage(const QString& modelPath, const QString& message, hip::ErrorCode code);

} // namespace hip::ui
