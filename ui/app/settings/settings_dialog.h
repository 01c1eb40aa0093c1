#pragma once
// The settings dialog: the engine (this computer, or a server that speaks OpenAI's API), the model
// (file with its description, device, attention preset, context, threads, GPU memory budget) and
// how answers are sampled. It edits an AppSettings; whether the
// model has to be loaded again is for the caller to ask.

#include "handoff/handoff.h"
#include "settings/app_settings.h"

#include <hip/model_info.h>
#include <hip/status.h>

#include <QDialog>
#include <QFutureWatcher>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace hip::ui {

class SettingsDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    SettingsDialog(AppSettings& settings, QWidget* parent = nullptr);
    ~SettingsDialog() override;

    // Writes the fields to the settings (on OK).
    void apply();
    // Whether the last apply() changed something only a new model load takes up.
    bool modelSettingsChanged() const { return modelChanged_; }
    // Whether the last apply() changed the engine: local or remote, or the server's settings.
    bool engineSettingsChanged() const { return engineChanged_; }

    QLineEdit* modelField() const { return modelPath_; }
    QRadioButton* remoteChoice() const { return remote_; }
    QLineEdit* remoteUrlField() const { return remoteUrl_; }
    QLineEdit* remoteKeyField() const { return remoteKey_; }

private:
    QWidget* enginePage();
    QWidget* modelPage();
    QWidget* answersPage();
    void browseModel();
    void describeModel();

    AppSettings& settings_;
    QRadioButton* local_;
    QRadioButton* remote_;
    QLineEdit* remoteUrl_;
    QLineEdit* remoteKey_;
    QLineEdit* remoteModel_;
    QSpinBox* remoteContext_;
    QSpinBox* remoteTimeout_;
    QLineEdit* modelPath_;
    QLabel* modelInfo_;
    QComboBox* device_;
    QComboBox* attention_;
    QSpinBox* context_;
    QSpinBox* threads_;
    QSpinBox* gpuBudget_;
    QCheckBox* loadOnStart_;
    QDoubleSpinBox* temperature_;
    QSpinBox* topK_;
    QDoubleSpinBox* topP_;
    QDoubleSpinBox* minP_;
    QDoubleSpinBox* repetition_;
    QSpinBox* maxTokens_;
    QSpinBox* seed_;
    QFutureWatcher<handoff::Handed<hip::Result<hip::ModelInfo>>> inspect_;
    bool modelChanged_ = false;
    bool engineChanged_ = false;
};

} // namespace hip::ui
