#include "remote/context_fit.h"

#include "common/formatting.h"

#include <QCoreApplication>

namespace hip::ui {
namespace {

// The chat template's tokens around each message (role markers, separators).
constexpr qint64 kTokensPerMessage = 8;

qint64 messageTokens(const std::string& content) {
    return estimateTokens(content) + kTokensPerMessage;
}

QString tr(const char* text) {
    return QCoreApplication::translate("RemoteEngine", text);
}

const QString& nothingSent() {
    static const QString text = tr("Nothing was sent.");
    return text;
}

} // namespace

qint64 estimateTokens(qsizetype utf8Bytes) {
    return (qint64(utf8Bytes) * 2 + 6) / 7; // ceil(bytes / 3.5)
}

qint64 estimateTokens(const std::string& text) {
    return estimateTokens(qsizetype(text.size()));
}

QString documentFitProblem(const QString& title, qint64 documentTokens, qint64 contextTokens,
                           int answerTokens) {
    if (contextTokens <= 0)
        return tr("The server does not report its context length, so HiP Reader cannot check "
                  "that the book fits: set it in Settings > Engine > Remote > Context.");
    const qint64 reserve = answerTokens + 2 * kTokensPerMessage + 64; // the question, the answer
    if (documentTokens + reserve <= contextTokens) return {};
    return tr("“%1” is about %2 tokens, but the server's context holds %3 tokens, %4 of them kept "
              "for a question and its answer. Choose a server with a longer context, or a "
              "shorter answer length limit; if the server holds more than it reports, set its "
              "context in Settings > Engine > Remote.")
        .arg(title, formatCount(documentTokens), formatCount(contextTokens), formatCount(reserve));
}

std::variant<FittedRequest, QString> fitRequest(const QString& title, const std::string& systemTurn,
                                                const ChatTurns& history,
                                                const std::string& question, int answerTokens,
                                                qint64 contextTokens) {
    FittedRequest request;
    qint64 fixed = messageTokens(question) + answerTokens;
    if (!systemTurn.empty()) {
        const qint64 book = messageTokens(systemTurn);
        if (const QString problem = documentFitProblem(title, book, contextTokens, answerTokens);
            !problem.isEmpty())
            return problem + QLatin1Char(' ') + nothingSent();
        fixed += book;
        request.messages.push_back({"system", systemTurn});
    } else if (contextTokens <= 0) {
        return documentFitProblem(title, 0, contextTokens, answerTokens) + QLatin1Char(' ') +
               nothingSent();
    }
    if (fixed > contextTokens)
        return tr("The question is about %1 tokens; with the answer length limit (%2 tokens) it "
                  "does not fit the server's context of %3 tokens. %4")
            .arg(formatCount(messageTokens(question)), formatCount(answerTokens),
                 formatCount(contextTokens), nothingSent());
    // The most recent turns that fit, whole exchanges at a time.
    size_t keepFrom = history.size();
    qint64 used = fixed;
    while (keepFrom >= 2) {
        const qint64 exchange = messageTokens(history[keepFrom - 2].content) +
                                messageTokens(history[keepFrom - 1].content);
        if (used + exchange > contextTokens) break;
        used += exchange;
        keepFrom -= 2;
    }
    request.messages.insert(request.messages.end(), history.begin() + qsizetype(keepFrom),
                            history.end());
    request.messages.push_back({"user", question});
    request.estimatedTokens = used;
    return request;
}

} // namespace hip::ui
