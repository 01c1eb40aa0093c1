// hipreader: the desktop application. Everything lives in the hipreaderui library; this only sets
// up the application object, reads the command line and shows the window.

#include "common/accessible_summary.h"
#include "common/resources.h"
#include "main_window/main_window.h"
#include "settings/app_settings.h"
#include "startup_check.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace {

// The sample book built with the application: next to the executable in a build tree
// (build/bin/../share/hipreader) and in an installed tree (bin/../share/hipreader).
QString samplePath() {
    return QDir(QCoreApplication::applicationDirPath())
        .filePath(QStringLiteral("../share/hipreader/sample.pdf"));
}

} // namespace

int main(int argc, char* argv[]) {
    const bool hasDisplay = !qEnvironmentVariableIsEmpty("DISPLAY") ||
                            !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
                            !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
    if (!hasDisplay) {
        const bool onlyText = std::any_of(argv + 1, argv + argc, [](const char* a) {
            return !std::strcmp(a, "--help") || !std::strcmp(a, "-h") ||
                   !std::strcmp(a, "--version") || !std::strcmp(a, "-v");
        });
        // Help and version need no window: answer them without a display.
        if (onlyText) {
            qputenv("QT_QPA_PLATFORM", "offscreen");
        } else {
            // Nothing to show; say so instead of Qt's platform plugin abort.
            std::fprintf(stderr,
                         "hipreader: no display found (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                         "Run it in a desktop session, or use the command line instead:\n"
                         "  hipreader-cli ask --text BOOK.txt --question \"...\"\n");
            return 2;
        }
    }
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("HiP Reader"));
    QCoreApplication::setApplicationName(QStringLiteral("HiP Reader"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HIPREADER_VERSION));
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.hipreader.HipReader"));
    hip::ui::initResources();
    hip::ui::installAccessibleSummaryFactory();

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main",
        "Read whole books with a local language model and see where its answers come from."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption sample(QStringLiteral("sample"),
                                    QCoreApplication::translate("main", "Open the sample book."));
    const QCommandLineOption noModel(
        QStringLiteral("no-model"),
        QCoreApplication::translate("main", "Do not load the model at start."));
    const QCommandLineOption check(
        QStringLiteral("check"),
        QCoreApplication::translate(
            "main", "Load the model, read the book, answer one question about it, print each step "
                    "and quit (exit status 1 on a failure): a check of an installation."));
    parser.addOption(sample);
    parser.addOption(noModel);
    parser.addOption(check);
    parser.addPositionalArgument(
        QStringLiteral("file"),
        QCoreApplication::translate("main", "A PDF, EPUB, text or Markdown file to open."),
        QStringLiteral("[file]"));
    parser.process(app);

    hip::ui::AppSettings settings;
    hip::ui::MainWindow window(settings);
    window.show();
    if (parser.isSet(check)) {
        constexpr int kCheckSeconds = 600;
        runStartupCheck(window, kCheckSeconds);
        window.loadModel();
    } else if (settings.loadModelOnStart() && !parser.isSet(noModel)) {
        window.loadModel();
    }
    if (!parser.positionalArguments().isEmpty())
        window.openFile(QFileInfo(parser.positionalArguments().constFirst()).absoluteFilePath());
    else if (parser.isSet(sample))
        window.openFile(QFileInfo(samplePath()).absoluteFilePath());
    return app.exec();
}
