#pragma once
// Every setting of the application, typed, with its default, in one place (qBittorrent's
// SettingValue idea without the templates): nothing else reads QSettings keys. Enums are stored as
// strings so the file stays readable and survives reordering.

#include "remote/remote_options.h"

#include <hip/engine.h>
#include <hip/generation.h>
#include <hip/status.h>

#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>

#include <memory>

namespace hip::ui {

// Where the model runs. Auto is hip::Device::Automatic: the GPU when one is usable, else the CPU.
enum class DevicePreference { Auto, Gpu, Cpu };

QString devicePreferenceName(DevicePreference device); // "auto", "gpu", "cpu"
DevicePreference devicePreferenceFromName(const QString& name);

// Who answers the questions: the model on this computer, or a server (Settings > Engine).
enum class EngineKind { Local, Remote };

class AppSettings {
public:
    // The application's QSettings (organization and application names set in main).
    AppSettings();
    // A settings file of its own (tests, portable setups).
    explicit AppSettings(const QString& iniPath);

    // Model ------------------------------------------------------------------------------------
    // The GGUF file; empty means the default model that scripts/setup installs.
    QString modelPath() const;
    void setModelPath(const QString& path);
    QString effectiveModelPath() const; // modelPath(), or the default model's path

    DevicePreference device() const;
    void setDevice(DevicePreference device);
    hip::Device engineDevice() const; // device() as the engine names it

    QString attentionPreset() const; // one of hip::AttentionConfig::presetNames()
    void setAttentionPreset(const QString& preset);

    // KV capacity in tokens; 0 = automatic: the model's trained context, or for a book longer than
    // that, the context hip::planContext gives it.
    qint64 contextTokens() const;
    void setContextTokens(qint64 tokens);

    int threads() const; // CPU threads, 0 = all cores
    void setThreads(int threads);

    // GPU memory the model may use, in MiB; 0 = whatever is free. The pre-load check compares the
    // estimate with the smaller of this and the free memory.
    qint64 gpuMemoryBudgetMiB() const;
    void setGpuMemoryBudgetMiB(qint64 mib);

    bool loadModelOnStart() const;
    void setLoadModelOnStart(bool load);

    // The options Engine::load and Engine::estimateMemory take.
    hip::LoadOptions loadOptions() const;

    // Engine -----------------------------------------------------------------------------------
    // Local by default: nothing leaves this computer unless the user chose a remote engine.
    EngineKind engineKind() const;
    void setEngineKind(EngineKind kind);
    // The server of the remote engine. The API key is kept in this settings file, in plain text.
    RemoteOptions remoteOptions() const;
    void setRemoteOptions(const RemoteOptions& options);

    // Sampling ---------------------------------------------------------------------------------
    hip::GenerateOptions generateOptions() const;
    void setGenerateOptions(const hip::GenerateOptions& options);

    // Session state ----------------------------------------------------------------------------
    QStringList recentFiles() const; // most recent first
    void addRecentFile(const QString& path);
    void removeRecentFile(const QString& path);
    void clearRecentFiles();
    static constexpr int kMaxRecentFiles = 10;

    QString lastOpenFolder() const;
    void setLastOpenFolder(const QString& folder);

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray& state);

    // Writes the settings file. A file cut short (full disk) is replaced by the one saved before,
    // and the settings in memory stay as they are, to be saved by the next sync.
    void sync();
    // Whether the last sync() wrote the settings file; when not, a message a person can act on
    // (the settings in memory and the file as it was are both kept).
    hip::Status saveStatus() const;

private:
    std::unique_ptr<QSettings> settings_;
    QString incompleteWrite_; // set by sync() when the file it wrote was cut short
};

} // namespace hip::ui
