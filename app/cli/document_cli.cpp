#include "document_cli.h"

#include "cli_common.h"

#include <document/document_ingest.h>
#include <document/document_reader.h>
#include <document/passage_finder.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include <termios.h>
#include <unistd.h>

namespace cli {
namespace {

// Reads a line from the terminal without echoing it.
std::optional<std::string> promptHidden(const std::string& prompt) {
    std::fprintf(stderr, "%s", prompt.c_str());
    termios saved{};
    const bool terminal = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    const bool got = bool(std::getline(std::cin, line));
    if (terminal) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
    if (!got) return std::nullopt;
    return line;
}

} // namespace

std::optional<hip::doc::DocumentText>
readDocumentFile(const std::string& path, const std::optional<std::string>& password, bool quiet) {
    const bool terminal = isatty(STDERR_FILENO) && !quiet;
    const bool canAsk = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
    resetInterrupt();
    hip::doc::ReadOptions options;
    options.cancel = interruptToken();
    if (terminal)
        options.progress = [](const hip::Progress& p) {
            std::fprintf(stderr, "\r%s %lld/%lld\033[K", p.stage.c_str(), (long long)p.done,
                         (long long)p.total);
        };
    options.password = [&](const hip::doc::PasswordRequest& request) -> std::optional<QString> {
        if (password) {
            if (request.previousWasWrong) return std::nullopt; // --password was wrong
            return QString::fromStdString(*password);
        }
        if (!canAsk || request.attempt > 3) {
            if (!canAsk)
                std::fprintf(stderr, "%s is protected by a password: give it with --password\n",
                             request.fileName.toLocal8Bit().constData());
            return std::nullopt;
        }
        if (terminal) std::fprintf(stderr, "\r\033[K");
        const auto typed = promptHidden(
            (request.previousWasWrong ? "Wrong password. Password for " : "Password for ") +
            request.fileName.toStdString() + ": ");
        if (!typed) return std::nullopt;
        return QString::fromStdString(*typed);
    };
    auto document = hip::doc::readDocument(QString::fromStdString(path), options);
    if (terminal) std::fprintf(stderr, "\r\033[K");
    if (!document) {
        fail(document.message());
        return std::nullopt;
    }
    if (!quiet) {
        const char* unit = document->unit == hip::doc::PageUnit::Chapter ? "chapters" : "pages";
        std::fprintf(stderr, "%s (%s): %zu %s, %zu bytes of text\n",
                     document->title.toStdString().c_str(), document->format.toStdString().c_str(),
                     document->pages.size(), unit, document->text.size());
        for (const QString& warning : document->warnings)
            std::fprintf(stderr, "warning: %s\n", warning.toStdString().c_str());
    }
    return std::move(*document);
}

std::optional<hip::doc::DocumentTokens> ingestDocumentFile(hip::Session& session,
                                                           const hip::doc::DocumentText& document) {
    const bool terminal = isatty(STDERR_FILENO);
    hip::doc::IngestCallback progress;
    if (terminal)
        progress = [](const hip::doc::IngestEstimate& e) {
            std::fprintf(stderr, "\rreading %s\033[K", e.describe().c_str());
        };
    resetInterrupt();
    auto tokens = hip::doc::ingestDocument(session, document, progress, interruptToken());
    if (terminal) std::fprintf(stderr, "\r\033[K");
    if (!tokens) {
        fail(tokens.message());
        return std::nullopt;
    }
    std::fprintf(stderr, "read \"%s\" into the model: %lld tokens in %.1f s (%.0f tokens/s)\n",
                 document.title.toStdString().c_str(), (long long)tokens->contextTokens(),
                 tokens->seconds(),
                 tokens->seconds() > 0 ? double(tokens->contextTokens()) / tokens->seconds() : 0.0);
    return std::move(*tokens);
}

void printAttendedPages(const hip::Session& session, const hip::doc::DocumentText& document,
                        const hip::doc::DocumentTokens& tokens, int pages) {
    const auto attended = hip::doc::citedPages(session.trace(), document, tokens, pages);
    if (attended.empty()) {
        std::cout << "\n(no attention on the document was recorded for this answer)\n";
        return;
    }
    std::cout << "\nPages the answer attended to:\n";
    for (const hip::doc::PageAttention& page : attended) {
        std::cout << "  " << document.pageName(page.page).toStdString() << "  "
                  << std::lround(page.weight * 100) << "%";
        if (!page.passages.empty())
            std::cout << "  \"" << page.passages.front().quote.toStdString() << "\"";
        std::cout << '\n';
    }
}

} // namespace cli
