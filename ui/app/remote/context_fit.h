#pragma once
// Whether a request fits the server's context, checked before it is sent. The server's tokenizer
// is not on this computer, so tokens are estimated from the text's UTF-8 bytes, erring on the
// side of more tokens; the server stays the judge, and its refusal is shown when it disagrees.

#include "bridge/bridge_types.h"

#include <QString>

#include <variant>

namespace hip::ui {

// Tokens of a text of `utf8Bytes` bytes: English prose takes about 4 bytes a token with the
// tokenizers of Llama-family models (3.8 to 3.9 measured with SmolLM2's on Newton's Opticks), so
// 3.5 over-counts a little.
qint64 estimateTokens(qsizetype utf8Bytes);
qint64 estimateTokens(const std::string& text);

// Why a book of `documentTokens` (its system turn) does not fit a server context of
// `contextTokens` with room for a question and an answer of `answerTokens`; empty when it fits.
// `contextTokens` 0 (not known) is a problem too: nothing can be checked.
QString documentFitProblem(const QString& title, qint64 documentTokens, qint64 contextTokens,
                           int answerTokens);

// The messages of one request: the book's system turn (when there is a book), as much of the
// conversation before the question as fits, oldest exchanges dropped first, and the question.
struct FittedRequest {
    ChatTurns messages;
    qint64 estimatedTokens = 0; // the messages and the answer
};
std::variant<FittedRequest, QString> fitRequest(const QString& title, const std::string& systemTurn,
                                                const ChatTurns& history,
                                                const std::string& question, int answerTokens,
                                                qint64 contextTokens);

} // namespace hip::ui
