#pragma once
// The bodies of OpenAI's /v1/chat/completions and /v1/completions requests, parsed and checked
// into one typed request. Every field is checked before anything runs: unknown fields, wrong
// types and values out of range are refused with an error shaped like OpenAI's, naming the field.

#include <hip/generation.h>
#include <hip/session.h>

#include <QByteArray>
#include <QString>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace serve {

// An error answered as {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
    int status = 400;
    QString message;
    QString type = QStringLiteral("invalid_request_error");
    QString param; // the offending field; empty when none
    QString code;  // a machine-readable reason; empty when none
};

// What a request may ask for.
struct RequestLimits {
    int maxTokens = 4096;     // ceiling of max_tokens
    int maxStopSequences = 4; // as OpenAI
    int maxStopBytes = 256;   // each stop sequence
    int maxMessages = 1024;   // turns of a chat
};

struct GenerationRequest {
    enum class Kind { Chat, Completion };
    Kind kind = Kind::Chat;
    QString model;
    // Chat: the conversation, whose last turn is the user's question.
    std::vector<hip::ChatTurn> messages;
    // Completion: the text to continue.
    std::string prompt;
    hip::GenerateOptions options;
    std::vector<std::string> stop;
    bool stream = false;
    bool streamUsage = false; // stream_options.include_usage
    // The "hipreader" extension (chat only): a book given to `serve --doc` as context, and how
    // many of the pages the answer attended to to return with it.
    QString document;
    int citedPages = 0;
};

using ParsedRequest = std::variant<GenerationRequest, ApiError>;

ParsedRequest parseChatRequest(const QByteArray& body, const RequestLimits& limits);
ParsedRequest parseCompletionRequest(const QByteArray& body, const RequestLimits& limits);

} // namespace serve
