#pragma once
// The model behind the server and the books it offers as context. Each book was read into its
// own session once, at startup; a chat about it restores the client's conversation after the
// book's cached system turn, so only the conversation is computed. Chats without a book and raw
// completions share one session, whose cache keeps whatever prefix the next request shares.
// generate() runs on the request queue's thread only; the rest is fixed after startup.

#include "openai_request.h"

#include <document/document_text.h>
#include <document/document_tokens.h>

#include <hip/cancel.h>
#include <hip/engine.h>
#include <hip/session.h>

#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace serve {

struct ServedDocument {
    QString id;
    hip::doc::DocumentText text;
    hip::doc::DocumentTokens tokens;
    std::unique_ptr<hip::Session> session; // holds the book in its KV cache
};

struct CitedPage {
    QString name;      // the page's label ("iv", "12") or chapter title
    int index = 0;     // 0-based
    double weight = 0; // share of the answer's attention on the book
    QString quote;
};

struct GenerationOutcome {
    std::optional<ApiError> error;
    bool cancelled = false;
    std::string text;     // the answer, cut before any stop sequence
    QString finishReason; // "stop" or "length"
    int64_t promptTokens = 0;
    int64_t completionTokens = 0;
    std::vector<CitedPage> citedPages;
    double firstTextSeconds = -1; // from the start of the work to the first text sent; -1 if none
};

class ServedModel {
public:
    ServedModel(hip::Engine& engine, QString id);

    const QString& id() const { return id_; }
    const hip::Engine& engine() const { return engine_; }
    // Adds a book already ingested into `document.session`; its id must be new.
    void addDocument(ServedDocument document);
    const std::vector<ServedDocument>& documents() const { return documents_; }
    const ServedDocument* document(const QString& id) const;

    // Runs `request` (checked against this model and its books by the caller), sending text to
    // `send` as it becomes final. Cancelling `cancel` stops it; the outcome then says cancelled.
    GenerationOutcome generate(const GenerationRequest& request,
                               const std::function<void(std::string_view)>& send,
                               const hip::CancelToken& cancel);

private:
    hip::Engine& engine_;
    QString id_;
    std::unique_ptr<hip::Session> session_;
    std::vector<ServedDocument> documents_;
};

} // namespace serve
