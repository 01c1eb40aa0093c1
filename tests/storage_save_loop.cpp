// Helper of test_ui_storage: saves in a loop until it is killed, or saves once under a file size
// limit (a full disk without privileges).
//
//   storage_save_loop chat <folder>             saves chat versions 0 and 1 in turn, forever
//   storage_save_loop settings <ini file>       the same with the settings
//   storage_save_loop chat-limited <folder> <bytes>   saves version 1 once with RLIMIT_FSIZE set
//
// The loops print "saved" after their first complete save, so the test knows a version exists
// before it starts killing. chat-limited prints the save's error and exits 0 when the save failed.

#include "storage_versions.h"

#include <QCoreApplication>

#include <csignal>
#include <cstdio>
#include <sys/resource.h>

namespace {

constexpr int kMessages = 300; // about 300 KB of JSON per save

int saveChatsForever(const QString& folder) {
    const hip::ui::ChatStore store(folder);
    for (int round = 0;; ++round) {
        if (const hip::Status saved =
                store.save(QStringLiteral("book"), hiptest::chatVersion(round % 2, kMessages));
            !saved) {
            std::fprintf(stderr, "%s\n", saved.message().c_str());
            return 1;
        }
        if (round == 0) std::printf("saved\n"), std::fflush(stdout);
    }
}

int saveSettingsForever(const QString& iniPath) {
    hip::ui::AppSettings settings(iniPath);
    for (int round = 0;; ++round) {
        hiptest::writeSettingsVersion(settings, round % 2);
        settings.sync();
        if (const hip::Status saved = settings.saveStatus(); !saved) {
            std::fprintf(stderr, "%s\n", saved.message().c_str());
            return 1;
        }
        if (round == 0) std::printf("saved\n"), std::fflush(stdout);
    }
}

int saveChatLimited(const QString& folder, rlim_t bytes) {
    // Writes past the limit fail with EFBIG instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{bytes, bytes};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 2;
    const hip::Status saved =
        hip::ui::ChatStore(folder).save(QStringLiteral("book"), hiptest::chatVersion(1, kMessages));
    std::printf("%s\n", saved.message().c_str());
    return saved ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() == 3 && args[1] == QLatin1String("chat")) return saveChatsForever(args[2]);
    if (args.size() == 3 && args[1] == QLatin1String("settings"))
        return saveSettingsForever(args[2]);
    if (args.size() == 4 && args[1] == QLatin1String("chat-limited"))
        return saveChatLimited(args[2], args[3].toULongLong());
    std::fprintf(stderr,
                 "usage: storage_save_loop chat|settings <path> | chat-limited <folder> <bytes>\n");
    return 2;
}
