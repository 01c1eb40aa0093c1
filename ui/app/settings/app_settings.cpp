#include "settings/app_settings.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryFile>

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
constexpr auto kEngineKind = "engine/kind";
constexpr auto kRemoteUrl = "engine/remoteUrl";
constexpr auto kRemoteApiKey = "engine/remoteApiKey";
constexpr auto kRemoteModel = "engine/remoteModel";
constexpr auto kRemoteContext = "engine/remoteContextTokens";
constexpr auto kRemoteTimeout = "engine/remoteTimeoutSeconds";
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

// hipreader-cli serve's default address. The timeout covers the server reading a whole book
// before its first word, which no byte comes back during.
constexpr auto kDefaultRemoteUrl = "http://127.0.0.1:8080/v1";
constexpr int kDefaultRemoteTimeoutSeconds = 120;

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

EngineKind AppSettings::engineKind() const {
    return settings_->value(kEngineKind).toString() == QLatin1String("remote") ? EngineKind::Remote
                                                                               : EngineKind::Local;
}
void AppSettings::setEngineKind(EngineKind kind) {
    settings_->setValue(kEngineKind, kind == EngineKind::Remote ? QStringLiteral("remote")
                                                                : QStringLiteral("local"));
}

RemoteOptions AppSettings::remoteOptions() const {
    RemoteOptions options;
    const QString url = settings_->value(kRemoteUrl).toString().trimmed();
    options.baseUrl = QUrl(url.isEmpty() ? QString::fromLatin1(kDefaultRemoteUrl) : url);
    options.apiKey = settings_->value(kRemoteApiKey).toString();
    options.model = settings_->value(kRemoteModel).toString().trimmed();
    options.contextTokens = std::max<qint64>(0, settings_->value(kRemoteContext, 0).toLongLong());
    options.timeoutSeconds =
        std::max(1, settings_->value(kRemoteTimeout, kDefaultRemoteTimeoutSeconds).toInt());
    return options;
}
void AppSettings::setRemoteOptions(const RemoteOptions& options) {
    settings_->setValue(kRemoteUrl, options.baseUrl.toString());
    settings_->setValue(kRemoteApiKey, options.apiKey);
    settings_->setValue(kRemoteModel, options.model);
    settings_->setValue(kRemoteContext, options.contextTokens);
    settings_->setValue(kRemoteTimeout, options.timeoutSeconds);
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

namespace {

// A value as an INI file gives it back (numbers and booleans come back as strings).
QByteArray asWritten(const QVariant& value) {
    if (value.typeId() == QMetaType::QStringList)
        return value.toStringList().join(QChar(0x1f)).toUtf8();
    return value.toByteArray();
}

// Whether the file `settings` wrote holds every key and value it has, read through a copy (a
// second QSettings on the same file would share the first one's cache).
bool fileHoldsEverything(const QSettings& settings) {
    QTemporaryFile copy;
    QFile file(settings.fileName());
    if (!copy.open() || !file.open(QIODevice::ReadOnly) ||
        copy.write(file.readAll()) != file.size())
        return false;
    copy.close();
    const QSettings written(copy.fileName(), QSettings::IniFormat);
    const QStringList keys = settings.allKeys();
    if (written.allKeys().size() != keys.size()) return false;
    return std::all_of(keys.begin(), keys.end(), [&](const QString& key) {
        return asWritten(written.value(key)) == asWritten(settings.value(key));
    });
}

} // namespace

void AppSettings::sync() {
    incompleteWrite_.clear();
    QFile file(settings_->fileName());
    const bool existed = file.open(QIODevice::ReadOnly);
    const QByteArray before = existed ? file.readAll() : QByteArray();
    file.close();
    settings_->sync();
    if (settings_->status() != QSettings::NoError || fileHoldsEverything(*settings_)) return;

    // Qt commits an INI file cut short by a full disk and reports no error. Put the previous file
    // back in place (rewriting it needs no more room than the cut file took), and mark every value
    // unsaved so the next sync writes them again.
    incompleteWrite_ = QCoreApplication::translate("AppSettings", "the disk is full");
    if (existed) {
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            file.write(before) != before.size() || !file.flush())
            incompleteWrite_ = QCoreApplication::translate(
                "AppSettings", "the disk is full, and the file saved before could not be "
                               "restored either");
        file.close();
    } else {
        file.remove();
    }
    for (const QString& key : settings_->allKeys())
        settings_->setValue(key, settings_->value(key));
}

hip::Status AppSettings::saveStatus() const {
    const QString file = settings_->fileName();
    if (!incompleteWrite_.isEmpty())
        return hip::makeError(hip::ErrorCode::Internal,
                              QCoreApplication::translate("AppSettings",
                                                          "The settings could not be saved to "
                                                          "%1: %2. The settings in use are kept "
                                                          "and will be saved again.")
                                  .arg(file, incompleteWrite_)
                                  .toStdString());
    switch (settings_->status()) {
    case QSettings::NoError:
        return hip::Status::ok();
    case QSettings::AccessError:
        return hip::makeError(
            hip::ErrorCode::Internal,
            QCoreApplication::translate("AppSettings",
                                        "The settings could not be saved to %1: the folder is "
                                        "read-only or the disk is full. The settings saved "
                                        "before are unchanged.")
                .arg(file)
                .toStdString());
    case QSettings::FormatError:
        break;
    }
    return hip::makeError(hip::ErrorCode::InvalidFile,
                          QCoreApplication::translate("AppSettings",
                                                      "The settings file %1 is damaged; the "
                                                      "defaults are used instead.")
                              .arg(file)
                              .toStdString());
}

} // namespace hip::ui
