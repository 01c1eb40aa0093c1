#include "startup_check.h"

#include "bridge/engine_bridge.h"
#include "chat/chat_controller.h"
#include "main_window/main_window.h"
#include "main_window/reading_controller.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace hip::ui;

namespace {

void say(const QString& line) {
    std::printf("hipreader --check: %s\n", qPrintable(line));
    std::fflush(stdout);
}

void fail(const QString& why) {
    std::fprintf(stderr, "hipreader --check: FAILED: %s\n", qPrintable(why));
    QCoreApplication::exit(1);
}

} // namespace

void runStartupCheck(MainWindow& window, int timeoutSeconds) {
    window.setQuestionHandler([](const QString& title, const QString& text, const QString&) {
        fail(QStringLiteral("the window asked \"%1\": %2").arg(title, text));
        return false;
    });
    const EngineBridge& bridge = window.bridge();
    QObject::connect(&bridge, &EngineBridge::modelLoaded, &window, [](const ModelSummary& model) {
        say(QStringLiteral("model %1 loaded on %2, context %3 tokens")
                .arg(QString::fromStdString(model.info.name), model.device)
                .arg(model.contextTokens));
    });
    QObject::connect(&bridge, &EngineBridge::failed, &window,
                     [](Operation, const QString& message, hip::ErrorCode) { fail(message); });
    QObject::connect(&window.reading(), &ReadingController::failed, &window, &fail);
    // The question goes once the bridge has finished the reading (it reports the book read
    // first, while it is still busy).
    const auto bookRead = std::make_shared<bool>(false);
    QObject::connect(&window.reading(), &ReadingController::read, &window,
                     [bookRead](const DocumentTokensPtr& tokens, int pagesRead, int pages) {
                         say(QStringLiteral("read %1 of %2 pages, %3 tokens")
                                 .arg(pagesRead)
                                 .arg(pages)
                                 .arg(tokens->count()));
                         *bookRead = true;
                     });
    QObject::connect(&bridge, &EngineBridge::finished, &window,
                     [&window, bookRead](Operation operation) {
                         if (operation != Operation::ReadDocument || !*bookRead) return;
                         const QString question = QStringLiteral("What is this book about?");
                         say(QStringLiteral("asking \"%1\"").arg(question));
                         if (!window.chat().ask(question)) fail(QStringLiteral("could not ask"));
                     });
    QObject::connect(&bridge, &EngineBridge::answerFinished, &window,
                     [](const AnswerOutcome& outcome) {
                         if (outcome.stats.generatedTokens == 0) {
                             fail(QStringLiteral("the answer is empty"));
                             return;
                         }
                         say(QStringLiteral("answered in %1 tokens (%2 tokens/s): %3")
                                 .arg(outcome.stats.generatedTokens)
                                 .arg(double(outcome.stats.generatedTokens) /
                                          std::max(1e-9, outcome.stats.decodeSeconds),
                                      0, 'f', 1)
                                 .arg(outcome.text.simplified()));
                         if (outcome.attention && !outcome.attention->pages.empty())
                             say(QStringLiteral("first source: page %1")
                                     .arg(outcome.attention->pages.front().label));
                         QCoreApplication::exit(0);
                     });
    QTimer::singleShot(timeoutSeconds * 1000, &window, [timeoutSeconds] {
        fail(QStringLiteral("not done after %1 s").arg(timeoutSeconds));
    });
}
