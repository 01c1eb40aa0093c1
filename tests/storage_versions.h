#pragma once
// Two versions of a saved chat and of the settings (recent files included), shared by the
// crash-safety suite and its helper that saves them in a loop: a file read back after a kill must
// equal one of them exactly. Different sizes, so that a mix of the two could not pass.

#include "chat/chat_store.h"
#include "settings/app_settings.h"

#include <QDate>
#include <QTime>

namespace hiptest {

// Version `version` (0 or 1) of a chat of `messages` messages.
inline hip::ui::SavedChat chatVersion(int version, int messages) {
    hip::ui::SavedChat chat;
    chat.documentPath = QStringLiteral("/books/version-%1/opticks.pdf").arg(version);
    chat.documentTitle = QStringLiteral("Opticks, version %1").arg(version);
    for (int m = 0; m < messages; ++m) {
        hip::ui::ChatMessage message;
        message.role =
            m % 2 ? hip::ui::ChatMessage::Role::Assistant : hip::ui::ChatMessage::Role::User;
        message.text = QStringLiteral("Version %1, message %2: light is made of rays. ")
                           .arg(version)
                           .arg(m)
                           .repeated(8 + 4 * version);
        message.time = QDateTime(QDate(2026, 1, 1 + version), QTime(12, m % 60, m / 60 % 60));
        if (m % 2)
            message.sources.push_back({m, QString::number(m), message.text.left(40), 0.5, 10, 20});
        chat.messages.push_back(message);
    }
    return chat;
}

inline QStringList recentFilesVersion(int version) {
    QStringList files;
    for (int f = 0; f < hip::ui::AppSettings::kMaxRecentFiles; ++f)
        files << QStringLiteral("/books/version-%1/book-%2.pdf").arg(version).arg(f);
    return files;
}

inline void writeSettingsVersion(hip::ui::AppSettings& settings, int version) {
    settings.setModelPath(QStringLiteral("/models/version-%1.gguf").arg(version));
    settings.setThreads(1 + version);
    settings.setContextTokens(4096 * (1 + version));
    settings.setLastOpenFolder(QStringLiteral("/books/version-%1").arg(version));
    settings.clearRecentFiles();
    const QStringList files = recentFilesVersion(version);
    for (auto file = files.crbegin(); file != files.crend(); ++file)
        settings.addRecentFile(*file);
    // Bulk, so that a save takes long enough for kills to land inside it.
    settings.setWindowState(QByteArray(64 * 1024 * (1 + version), char('a' + version)));
}

// The version the settings hold, or -1 when they are a mix of both (or neither).
inline int settingsVersionOf(const hip::ui::AppSettings& settings) {
    for (int version : {0, 1})
        if (settings.modelPath() == QStringLiteral("/models/version-%1.gguf").arg(version) &&
            settings.threads() == 1 + version && settings.contextTokens() == 4096 * (1 + version) &&
            settings.lastOpenFolder() == QStringLiteral("/books/version-%1").arg(version) &&
            settings.recentFiles() == recentFilesVersion(version) &&
            settings.windowState() == QByteArray(64 * 1024 * (1 + version), char('a' + version)))
            return version;
    return -1;
}

} // namespace hiptest
