#include "settings/settings_dialog.h"

#include "common/formatting.h"
#include "handoff/run.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include <limits>
#include <tuple>

namespace hip::ui {
namespace {

// A label for `field` in a form, with its accessible name set from the same text.
void addRow(QFormLayout* form, const QString& label, QWidget* field, const QString& help = {}) {
    auto* text = new QLabel(label);
    text->setBuddy(field);
    field->setAccessibleName(QString(label).remove(QLatin1Char('&')).remove(QLatin1Char(':')));
    if (!help.isEmpty()) {
        field->setToolTip(help);
        field->setAccessibleDescription(help);
    }
    form->addRow(text, field);
}

QString describe(const hip::ModelInfo& info) {
    QStringList types;
    for (const auto& [name, usage] : info.tensorTypes)
        types << QString::fromStdString(name);
    return QCoreApplication::translate(
               "SettingsDialog",
               "<b>%1</b><br>%2 · %3 M parameters · %4 layers · %5 heads (%6 key/value)<br>"
               "Trained context %7 tokens · KV cache %8 per token<br>"
               "Weights %9 (%10) · chat format %11")
        .arg(QString::fromStdString(info.name).toHtmlEscaped(),
             QString::fromStdString(info.architecture))
        .arg(double(info.parameters) / 1e6, 0, 'f', 1)
        .arg(info.layers)
        .arg(info.heads)
        .arg(info.kvHeads)
        .arg(formatCount(info.contextLength), formatBytes(info.kvBytesPerToken),
             formatBytes(info.fileBytes), types.join(QStringLiteral(", ")),
             QString::fromStdString(info.chatFormat));
}

} // namespace

SettingsDialog::SettingsDialog(AppSettings& settings, QWidget* parent)
    : QDialog(parent), settings_(settings),
      local_(new QRadioButton(tr("&Local: the model on this computer"), this)),
      remote_(new QRadioButton(tr("&Remote: a server that speaks OpenAI's API"), this)),
      remoteUrl_(new QLineEdit(this)), remoteKey_(new QLineEdit(this)),
      remoteModel_(new QLineEdit(this)), remoteContext_(new QSpinBox(this)),
      remoteTimeout_(new QSpinBox(this)), modelPath_(new QLineEdit(this)),
      modelInfo_(new QLabel(this)), device_(new QComboBox(this)), attention_(new QComboBox(this)),
      context_(new QSpinBox(this)), threads_(new QSpinBox(this)), gpuBudget_(new QSpinBox(this)),
      loadOnStart_(new QCheckBox(tr("&Load the model when HiP Reader starts"), this)),
      temperature_(new QDoubleSpinBox(this)), topK_(new QSpinBox(this)),
      topP_(new QDoubleSpinBox(this)), minP_(new QDoubleSpinBox(this)),
      repetition_(new QDoubleSpinBox(this)), maxTokens_(new QSpinBox(this)),
      seed_(new QSpinBox(this)) {
    setWindowTitle(tr("Settings"));
    auto* layout = new QVBoxLayout(this);
    auto* tabs = new QTabWidget(this);
    tabs->addTab(enginePage(), tr("&Engine"));
    tabs->addTab(modelPage(), tr("&Model"));
    tabs->addTab(answersPage(), tr("&Answers"));
    layout->addWidget(tabs);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        apply();
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(&inspect_, &QFutureWatcher<handoff::Handed<hip::Result<hip::ModelInfo>>>::finished,
            this, [this] {
                const hip::Result<hip::ModelInfo> info = inspect_.result().value();
                modelInfo_->setText(
                    info ? describe(*info)
                         : tr("<b>This file cannot be used:</b> %1")
                               .arg(QString::fromStdString(info.message()).toHtmlEscaped()));
            });
    describeModel();
}

SettingsDialog::~SettingsDialog() {
    inspect_.waitForFinished();
}

QWidget* SettingsDialog::enginePage() {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    local_->setToolTip(tr("Nothing leaves this computer."));
    remote_->setToolTip(tr("The book and your questions are sent to the server. The attention "
                           "views, page heat and the memory gauge need the local engine."));
    form->addRow(local_);
    form->addRow(remote_);
    const RemoteOptions options = settings_.remoteOptions();
    (settings_.engineKind() == EngineKind::Remote ? remote_ : local_)->setChecked(true);

    remoteUrl_->setText(options.baseUrl.toString());
    remoteUrl_->setPlaceholderText(QStringLiteral("http://127.0.0.1:8080/v1"));
    addRow(form, tr("Server &URL:"), remoteUrl_,
           tr("The API's base, ending in /v1: hipreader-cli serve and llama.cpp's llama-server "
              "listen at http://127.0.0.1:8080/v1, vLLM and SGLang at http://HOST:8000/v1 and "
              "http://HOST:30000/v1."));
    remoteKey_->setText(options.apiKey);
    remoteKey_->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    remoteKey_->setPlaceholderText(tr("none"));
    addRow(form, tr("API &key:"), remoteKey_,
           tr("Sent as a bearer token. It is kept in HiP Reader's settings file in plain text."));
    remoteModel_->setText(options.model);
    remoteModel_->setPlaceholderText(tr("the first the server lists"));
    addRow(form, tr("M&odel:"), remoteModel_, tr("The model's id, as GET /v1/models lists it."));
    remoteContext_->setRange(0, 16 * 1024 * 1024);
    remoteContext_->setSingleStep(4096);
    remoteContext_->setSpecialValueText(tr("As the server reports"));
    remoteContext_->setSuffix(tr(" tokens"));
    remoteContext_->setValue(int(std::min<qint64>(options.contextTokens, 16 * 1024 * 1024)));
    addRow(form, tr("Con&text:"), remoteContext_,
           tr("The server's context length, which the book is checked against before it is sent. "
              "hipreader-cli serve, vLLM, SGLang and llama.cpp's server report it; set it for "
              "servers that do not."));
    remoteTimeout_->setRange(1, 3600);
    remoteTimeout_->setSuffix(tr(" s"));
    remoteTimeout_->setValue(options.timeoutSeconds);
    addRow(form, tr("&Wait at most:"), remoteTimeout_,
           tr("How long the server may stay silent before HiP Reader gives up: connecting, and "
              "reading the book before the first word of an answer."));

    const auto enableRemote = [this] {
        for (QWidget* field : std::initializer_list<QWidget*>{remoteUrl_, remoteKey_, remoteModel_,
                                                              remoteContext_, remoteTimeout_})
            field->setEnabled(remote_->isChecked());
    };
    connect(remote_, &QRadioButton::toggled, this, enableRemote);
    enableRemote();
    return page;
}

QWidget* SettingsDialog::modelPage() {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);

    auto* fileRow = new QWidget(page);
    auto* fileLayout = new QHBoxLayout(fileRow);
    fileLayout->setContentsMargins(0, 0, 0, 0);
    modelPath_->setText(settings_.modelPath());
    modelPath_->setPlaceholderText(
        QDir::toNativeSeparators(QString::fromStdString(hip::defaultModelPath().string())));
    modelPath_->setClearButtonEnabled(true);
    auto* browse = new QPushButton(tr("&Browse…"), fileRow);
    browse->setAccessibleName(tr("Choose a model file"));
    fileLayout->addWidget(modelPath_, 1);
    fileLayout->addWidget(browse);
    addRow(form, tr("Model &file:"), fileRow,
           tr("A GGUF model of the Llama family. Empty: the default model."));
    modelPath_->setAccessibleName(tr("Model file"));
    connect(browse, &QPushButton::clicked, this, &SettingsDialog::browseModel);
    auto* typing = new QTimer(this);
    typing->setSingleShot(true);
    typing->setInterval(400);
    connect(modelPath_, &QLineEdit::textChanged, typing, qOverload<>(&QTimer::start));
    connect(typing, &QTimer::timeout, this, &SettingsDialog::describeModel);

    modelInfo_->setWordWrap(true);
    modelInfo_->setTextFormat(Qt::RichText);
    modelInfo_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    modelInfo_->setAccessibleName(tr("Model description"));
    form->addRow(QString(), modelInfo_);

    device_->addItem(tr("Automatic (GPU if there is one)"),
                     devicePreferenceName(DevicePreference::Auto));
    device_->addItem(tr("GPU (CUDA)"), devicePreferenceName(DevicePreference::Gpu));
    device_->addItem(tr("CPU"), devicePreferenceName(DevicePreference::Cpu));
    device_->setCurrentIndex(device_->findData(devicePreferenceName(settings_.device())));
    addRow(form, tr("&Device:"), device_,
           tr("Where the model runs. Automatic falls back to the CPU and says so."));

    for (const std::string& name : hip::AttentionConfig::presetNames()) {
        const auto preset = hip::AttentionConfig::preset(name);
        attention_->addItem(QString::fromStdString(name), QString::fromStdString(name));
        attention_->setItemData(attention_->count() - 1, QString::fromStdString(preset->describe()),
                                Qt::ToolTipRole);
    }
    attention_->setCurrentIndex(attention_->findData(settings_.attentionPreset()));
    addRow(form, tr("&Attention:"), attention_,
           tr("dense: exact attention over every key. hip-*: Hierarchically Pruned Attention, "
              "which keeps a "
              "fixed budget of keys per query and lets a whole book fit."));

    context_->setRange(0, 16 * 1024 * 1024);
    context_->setSingleStep(4096);
    context_->setSpecialValueText(tr("Automatic"));
    context_->setSuffix(tr(" tokens"));
    context_->setValue(int(settings_.contextTokens()));
    addRow(form, tr("&Context:"), context_,
           tr("How many tokens the model can hold: the book plus the conversation. Automatic: "
              "the model's trained context, and for a longer book with HiP attention a context "
              "that holds it and the conversation, as far as memory allows."));

    threads_->setRange(0, QThread::idealThreadCount() * 2);
    threads_->setSpecialValueText(tr("All cores"));
    threads_->setValue(settings_.threads());
    addRow(form, tr("CPU &threads:"), threads_);

    gpuBudget_->setRange(0, 1024 * 1024);
    gpuBudget_->setSingleStep(512);
    gpuBudget_->setSuffix(tr(" MiB"));
    gpuBudget_->setSpecialValueText(tr("All free GPU memory"));
    gpuBudget_->setValue(int(settings_.gpuMemoryBudgetMiB()));
    addRow(
        form, tr("&GPU memory budget:"), gpuBudget_,
        tr("A load that would need more GPU memory than this is refused before it starts (you can "
           "override)."));

    loadOnStart_->setChecked(settings_.loadModelOnStart());
    form->addRow(QString(), loadOnStart_);
    return page;
}

QWidget* SettingsDialog::answersPage() {
    const hip::GenerateOptions options = settings_.generateOptions();
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    temperature_->setRange(0, 2);
    temperature_->setSingleStep(0.05);
    temperature_->setValue(options.sampler.temperature);
    addRow(form, tr("&Temperature:"), temperature_,
           tr("0 always picks the most likely word (best for questions about a text)."));
    topK_->setRange(0, 1000);
    topK_->setSpecialValueText(tr("off"));
    topK_->setValue(options.sampler.topK);
    addRow(form, tr("Top &k:"), topK_);
    topP_->setRange(0.01, 1);
    topP_->setSingleStep(0.01);
    topP_->setValue(options.sampler.topP);
    addRow(form, tr("Top &p:"), topP_);
    minP_->setRange(0, 1);
    minP_->setSingleStep(0.01);
    minP_->setValue(options.sampler.minP);
    addRow(form, tr("M&in p:"), minP_);
    repetition_->setRange(1, 2);
    repetition_->setSingleStep(0.05);
    repetition_->setValue(options.sampler.repetitionPenalty);
    addRow(form, tr("&Repetition penalty:"), repetition_, tr("1 is off."));
    maxTokens_->setRange(1, 32768);
    maxTokens_->setValue(options.maxTokens);
    maxTokens_->setSuffix(tr(" tokens"));
    addRow(form, tr("Answer &length limit:"), maxTokens_);
    seed_->setRange(0, std::numeric_limits<int>::max());
    seed_->setValue(
        int(std::min<uint64_t>(options.sampler.seed, uint64_t(std::numeric_limits<int>::max()))));
    addRow(form, tr("&Seed:"), seed_, tr("Makes sampled answers repeatable."));
    return page;
}

void SettingsDialog::browseModel() {
    const QString start =
        modelPath_->text().isEmpty()
            ? QString::fromStdString(hip::defaultModelPath().parent_path().string())
            : QFileInfo(modelPath_->text()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Choose a Model"), start,
                                                      tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty()) modelPath_->setText(path);
}

void SettingsDialog::describeModel() {
    const QString path = modelPath_->text().isEmpty()
                             ? QString::fromStdString(hip::defaultModelPath().string())
                             : modelPath_->text();
    modelInfo_->setText(tr("Reading %1…").arg(QFileInfo(path).fileName().toHtmlEscaped()));
    inspect_.setFuture(handoff::run([path] { return hip::inspectModel(path.toStdString()); }));
}

void SettingsDialog::apply() {
    // What a loaded model was made with: changing any of it needs a new load.
    const auto loadedWith = [this] {
        return std::tuple(settings_.effectiveModelPath(), settings_.attentionPreset(),
                          settings_.device(), settings_.contextTokens(), settings_.threads());
    };
    const auto before = loadedWith();
    const auto engineWith = [this] {
        const RemoteOptions o = settings_.remoteOptions();
        return std::tuple(settings_.engineKind(), o.baseUrl, o.apiKey, o.model, o.contextTokens,
                          o.timeoutSeconds);
    };
    const auto engineBefore = engineWith();
    settings_.setEngineKind(remote_->isChecked() ? EngineKind::Remote : EngineKind::Local);
    RemoteOptions remote;
    remote.baseUrl = QUrl(remoteUrl_->text().trimmed());
    remote.apiKey = remoteKey_->text();
    remote.model = remoteModel_->text().trimmed();
    remote.contextTokens = remoteContext_->value();
    remote.timeoutSeconds = remoteTimeout_->value();
    settings_.setRemoteOptions(remote);
    settings_.setModelPath(modelPath_->text().trimmed());
    settings_.setDevice(devicePreferenceFromName(device_->currentData().toString()));
    settings_.setAttentionPreset(attention_->currentData().toString());
    settings_.setContextTokens(context_->value());
    settings_.setThreads(threads_->value());
    settings_.setGpuMemoryBudgetMiB(gpuBudget_->value());
    settings_.setLoadModelOnStart(loadOnStart_->isChecked());
    hip::GenerateOptions options;
    options.sampler.temperature = float(temperature_->value());
    options.sampler.topK = topK_->value();
    options.sampler.topP = float(topP_->value());
    options.sampler.minP = float(minP_->value());
    options.sampler.repetitionPenalty = float(repetition_->value());
    options.sampler.seed = uint64_t(seed_->value());
    options.maxTokens = maxTokens_->value();
    settings_.setGenerateOptions(options);
    settings_.sync();
    if (const hip::Status saved = settings_.saveStatus(); !saved)
        QMessageBox::warning(this, tr("Settings not saved"),
                             QString::fromStdString(saved.message()));
    modelChanged_ = before != loadedWith();
    engineChanged_ = engineBefore != engineWith();
}

} // namespace hip::ui
