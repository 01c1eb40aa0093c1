// hipreader-screenshots: drives the real window through what the README shows (open the sample
// book, load the default model, read the book, ask a question, follow a source, measure attention)
// and saves a picture at each step. scripts/screenshots.sh runs it under Xvfb. Settings and chats
// go to a temporary folder, so the user's own are never touched.

#include "attention/attention_panel.h"
#include "attention/locality_plot.h"
#include "attention/mask_heatmap.h"
#include "attention/window_comparison.h"
#include "bridge/engine_bridge.h"
#include "chat/chat_controller.h"
#include "chat/chat_panel.h"
#include "chat/sources_model.h"
#include "common/accessible_summary.h"
#include "common/resources.h"
#include "document_view/document_view.h"
#include "main_window/activity_bar.h"
#include "main_window/main_window.h"
#include "main_window/reading_controller.h"
#include "memory/memory_gauge.h"
#include "settings/app_settings.h"

#include <QApplication>
#include <QDockWidget>
#include <QEventLoop>
#include <QListView>
#include <QPlainTextEdit>
#include <QScreen>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>

namespace {

// Runs the event loop until `done` holds or `seconds` pass; false on timeout.
template <typename Predicate> bool waitFor(Predicate done, int seconds) {
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > seconds * 1000) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    return true;
}

void settle(int ms) {
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

bool save(QWidget* widget, const QString& path) {
    const bool ok = widget->grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "FAILED", qPrintable(path));
    return ok;
}

} // namespace

int main(int argc, char* argv[]) {
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("HiP Reader Screenshots"));
    QCoreApplication::setApplicationName(QStringLiteral("HiP Reader"));
    hip::ui::initResources();
    hip::ui::installAccessibleSummaryFactory();
    QStringList args = app.arguments();
    // --dark: the same tour in a dark palette (the window follows the system's palette; Xvfb has
    // none, so the tour sets one).
    const bool dark = args.removeAll(QStringLiteral("--dark")) > 0;
    if (args.size() < 4) {
        std::fprintf(stderr,
                     "usage: hipreader-screenshots [--dark] BOOK.pdf OUTPUT_FOLDER QUESTION\n");
        return 2;
    }
    if (dark) {
        QApplication::setStyle(QStringLiteral("Fusion"));
        QPalette palette;
        palette.setColor(QPalette::Window, QColor(45, 45, 48));
        palette.setColor(QPalette::WindowText, QColor(230, 230, 230));
        palette.setColor(QPalette::Base, QColor(30, 30, 32));
        palette.setColor(QPalette::AlternateBase, QColor(52, 52, 56));
        palette.setColor(QPalette::Text, QColor(230, 230, 230));
        palette.setColor(QPalette::Button, QColor(55, 55, 60));
        palette.setColor(QPalette::ButtonText, QColor(230, 230, 230));
        palette.setColor(QPalette::Highlight, QColor(61, 142, 201));
        palette.setColor(QPalette::HighlightedText, Qt::white);
        palette.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
        palette.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
        palette.setColor(QPalette::ToolTipText, QColor(230, 230, 230));
        palette.setColor(QPalette::Mid, QColor(90, 90, 95));
        palette.setColor(QPalette::Dark, QColor(35, 35, 38));
        QApplication::setPalette(palette);
    }
    const QString suffix = dark ? QStringLiteral("-dark") : QString();
    const QString book = args[1];
    const QString out = args[2];
    const QString question = args[3];

    QTemporaryDir scratch;
    hip::ui::AppSettings settings(scratch.filePath(QStringLiteral("settings.ini")));
    settings.setAttentionPreset(QStringLiteral("hip-3k"));
    hip::ui::MainWindow window(settings, scratch.filePath(QStringLiteral("chats")));
    window.setQuestionHandler([](const QString&, const QString&, const QString&) { return true; });
    window.resize(1600, 1000);
    window.show();
    window.loadModel();
    window.openFile(book);

    // The reading in progress, once there is a speed and a time left to show.
    auto& reading = window.reading();
    qint64 readSoFar = 0;
    QObject::connect(&reading, &hip::ui::ReadingController::progress,
                     [&](const QString&, qint64 done, qint64) { readSoFar = done; });
    if (waitFor([&] { return readSoFar >= 1024 || reading.isRead(); }, 600) && !reading.isRead() &&
        !dark)
        save(&window, out + QStringLiteral("/reading") + suffix + QStringLiteral(".png"));
    if (!waitFor([&] { return reading.isRead(); }, 600)) {
        std::fprintf(stderr, "the book was not read: %s\n",
                     qPrintable(window.activityBar()->text()));
        return 1;
    }
    settle(500);

    window.chatPanel()->questionField()->setPlainText(question);
    window.chatPanel()->submit();
    settle(3000);
    if (!dark) save(&window, out + QStringLiteral("/answering") + suffix + QStringLiteral(".png"));
    if (!waitFor([&] { return !window.chat().isAnswering(); }, 600)) return 1;
    settle(500);
    // Follow the first source, as a reader would.
    QListView* sources = window.chatPanel()->sourcesView();
    if (sources->model()->rowCount() > 0) {
        const QModelIndex first = sources->model()->index(0, 0);
        sources->setCurrentIndex(first);
        emit sources->activated(first);
    }
    settle(1500);
    save(&window, out + QStringLiteral("/main-window") + suffix + QStringLiteral(".png"));
    save(window.dock(QStringLiteral("memoryDock")),
         out + QStringLiteral("/memory-gauge") + suffix + QStringLiteral(".png"));

    QDockWidget* attention = window.dock(QStringLiteral("attentionDock"));
    attention->setFloating(true);
    attention->resize(900, 560);
    attention->show();
    window.attentionPanel()->refreshMask();
    settle(1500);
    save(attention, out + QStringLiteral("/attention-mask") + suffix + QStringLiteral(".png"));
    if (dark) return 0; // the measurements look the same in both palettes: taken once
    window.attentionPanel()->tabs()->setCurrentIndex(1);
    window.attentionPanel()->measureLocality();
    if (!waitFor([&] { return window.attentionPanel()->localityView()->report() != nullptr; }, 600))
        return 1;
    settle(500);
    save(attention, out + QStringLiteral("/attention-locality") + suffix + QStringLiteral(".png"));
    window.attentionPanel()->tabs()->setCurrentIndex(2);
    window.attentionPanel()->measureWindow();
    if (!waitFor([&] { return window.attentionPanel()->windowView()->window() != nullptr; }, 600))
        return 1;
    settle(500);
    save(attention, out + QStringLiteral("/attention-window") + suffix + QStringLiteral(".png"));
    return 0;
}
