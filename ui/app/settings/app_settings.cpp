#include "settings/app_settings.h"

#include <QFileInfo>

#include <algorithm>

namespace hip::ui {
namespace {

// Keys and defaults. Grouped like the settings dialog's pages.
constexpr auto kModelPath = "model/path";
constexpr auto kDevice = "model/device";
constexpr auto kAttention = "model/attention";
constexpr auto kContext = "model/contextTokens";
constexpr auto kThreads = "model/threads";
constexpr auto kGpuBudget = "model/gpuMemoryBudgetMiB";
constexpr auto kLoadOnStart = "model/loadOnStart";
constexpr auto kTemperature = "sampling/temperature";
constexpr auto kTopK = "sampling/topK";
constexpr auto kTopP = "sampling/topP";
constexpr auto kMinP = "sampling/minP";
constexpr auto kRepetition = "sampling/repetitionPenalty";
constexpr auto kMaxTokens = "sampling/maxTokens";
constexpr auto kSeed = "sampling/seed";
constexpr auto kRecent = "session/recentFiles";
constexpr auto kLastFolder = "session/lastOpenFolder";
constexpr auto kGeometry = "window/geometry";
constexpr auto kState = "window/state";

// HiP by default: it is what lets a whole book fit, and below its dense crossover it is exact.
constexpr auto kDefaultAttention = "hip-3k";

// A question about a book wants the most likely answer, not a creative one; a mild repetition
// penalty keeps small models from looping.
hip::GenerateOptions defaultGenerateOptions() {
    hip::GenerateOptions options;
    options.sampler.temperature = 0.0f;
    options.sampler.repetitionPenalty = 1.1f;
    options.maxTokens = 512;
    return options;
}

} // namespace

QString devicePreferenceName(DevicePreference device) {
    switch (device) {
    case DevicePreference::Auto:
        return QStringLiteral("auto");
    case DevicePreference::Gpu:
        return QStringLiteral("gpu");
    case DevicePreference::Cpu:
        return QStringLiteral("cpu");
    }
    return QStringLiteral("auto");
}

DevicePreference devicePreferenceFromName(const QString& name) {
    if (name == QLatin1String("gpu")) return DevicePreference::Gpu;
    if (name == QLatin1String("cpu")) return DevicePreference::Cpu;
    return DevicePreference::Auto;
}

AppSettings::AppSettings() : settings_(std::make_unique<QSettings>()) {}

AppSettings::AppSettings(const QString& iniPath)
    : settings_(std::make_unique<QSettings>(iniPath, QSettings::IniFormat)) {}

QString AppSettings::modelPath() const {
    return settings_->value(kModelPath).toString();
}
void AppSettings::setModelPath(const QString& path) {
    settings_->setValue(kModelPath, path);
}
QString AppSettings::effectiveModelPath() const {
    const QString path = modelPath();
    return path.isEmpty() ? QString::fromStdString(hip::defaultModelPath().string()) : path;
}

DevicePreference AppSettings::device() const {
    return devicePreferenceFromName(settings_->value(kDevice).toString());
}
void AppSettings::setDevice(DevicePreference device) {
    settings_->setValue(kDevice, devicePreferenceName(device));
}

QString AppSettings::attentionPreset() const {
    const QString preset = settings_->value(kAttention, kDefaultAttention).toString();
    // A preset removed in a later version must not make the model unloadable.
    return hip::AttentionConfig::preset(preset.toStdString()) ? preset : kDefaultAttention;
}
void AppSettings::setAttentionPreset(const QString& preset) {
    settings_->setValue(kAttention, preset);
}

qint64 AppSettings::contextTokens() const {
    return std::max<qint64>(0, settings_->value(kContext, 0).toLongLong());
}
void AppSettings::setContextTokens(qint64 tokens) {
    settings_->setValue(kContext, tokens);
}

int AppSettings::threads() const {
    return std::max(0, settings_->value(kThreads, 0).toInt());
}
void AppSettings::setThreads(int threads) {
    settings_->setValue(kThreads, threads);
}

qint64 AppSettings::gpuMemoryBudgetMiB() const {
    return std::max<qint64>(0, settings_->value(kGpuBudget, 0).toLongLong());
}
void AppSettings::setGpuMemoryBudgetMiB(qint64 mib) {
    settings_->setValue(kGpuBudget, mib);
}

bool AppSettings::loadModelOnStart() const {
    return settings_->value(kLoadOnStart, true).toBool();
}
void AppSettings::setLoadModelOnStart(bool load) {
    settings_->setValue(kLoadOnStart, load);
}

hip::Device AppSettings::engineDevice() const {
    switch (device()) {
    case DevicePreference::Auto:
        return hip::Device::Automatic;
    case DevicePreference::Gpu:
        return hip::Device::Cuda;
    case DevicePreference::Cpu:
        return hip::Device::Cpu;
    }
    return hip::Device::Automatic;
}

hip::LoadOptions AppSettings::loadOptions() const {
    hip::LoadOptions options;
    options.model = effectiveModelPath().toStdString();
    options.device = engineDevice();
    options.threads = threads();
    options.contextTokens = contextTokens();
    if (options.device != hip::Device::Cpu)
        options.gpuMemoryBudget = uint64_t(gpuMemoryBudgetMiB()) << 20;
    options.attention = *hip::AttentionConfig::preset(attentionPreset().toStdString());
    return options;
}

hip::GenerateOptions AppSettings::generateOptions() const {
    const hip::GenerateOptions defaults = defaultGenerateOptions();
    hip::GenerateOptions options;
    hip::SamplerOptions& s = options.sampler;
    s.temperature = settings_->value(kTemperature, defaults.sampler.temperature).toFloat();
    s.topK = settings_->value(kTopK, defaults.sampler.topK).toInt();
    s.topP = settings_->value(kTopP, defaults.sampler.topP).toFloat();
    s.minP = settings_->value(kMinP, defaults.sampler.minP).toFloat();
    s.repetitionPenalty =
        settings_->value(kRepetition, defaults.sampler.repetitionPenalty).toFloat();
    s.seed = settings_->value(kSeed, qulonglong(defaults.sampler.seed)).toULongLong();
    options.maxTokens = std::max(1, settings_->value(kMaxTokens, defaults.maxTokens).toInt());
    return options;
}

void AppSettings::setGenerateOptions(const hip::GenerateOptions& options) {
    const hip::SamplerOptions& s = options.sampler;
    settings_->setValue(kTemperature, s.temperature);
    settings_->setValue(kTopK, s.topK);
    settings_->setValue(kTopP, s.topP);
    settings_->setValue(kMinP, s.minP);
    settings_->setValue(kRepetition, s.repetitionPenalty);
    settings_->setValue(kSeed, qulonglong(s.seed));
    settings_->setValue(kMaxTokens, options.maxTokens);
}

QStringList AppSettings::recentFiles() const {
    return settings_->value(kRecent).toStringList();
}

void AppSettings::addRecentFile(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = recentFiles();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    settings_->setValue(kRecent, files);
}

void AppSettings::removeRecentFile(const QString& path) {
    QStringList files = recentFiles();
    files.removeAll(path);
    settings_->setValue(kRecent, files);
}

void AppSettings::clearRecentFiles() {
    settings_->remove(kRecent);
}

QString AppSettings::lastOpenFolder() const {
    return settings_->value(kLastFolder).toString();
}
void AppSettings::setLastOpenFolder(const QString& folder) {
    settings_->setValue(kLastFolder, folder);
}

QByteArray AppSettings::windowGeometry() const {
    return settings_->value(kGeometry).toByteArray();
}
void AppSettings::setWindowGeometry(const QByteArray& geometry) {
    settings_->setValue(kGeometry, geometry);
}
QByteArray AppSettings::windowState() const {
    return settings_->value(kState).toByteArray();
}
void AppSettings::setWindowState(const QByteArray& state) {
    settings_->setValue(kState, state);
}

void AppSettings::sync() {
    settings_->sync();
}

} // namespace hip::ui
