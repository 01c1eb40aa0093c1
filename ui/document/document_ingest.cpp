#include "document/document_ingest.h"

#include "document/passage_finder.h"

#include <algorithm>

namespace hip::doc {
namespace {

// Pages whose text lies wholly within the first `bytes` bytes of the document.
int pagesWithin(const DocumentText& document, uint64_t bytes) {
    if (bytes >= document.text.size()) return int(document.pages.size());
    return std::max(0, document.pageAt(bytes));
}

// A question the document has nothing to do with, and the length of the answer whose attention
// on the document is its background (DocumentTokens::background).
constexpr const char* kUnrelatedQuestion = "What is two plus two?";
constexpr int32_t kBackgroundAnswerTokens = 16;

// Asks the unrelated question after the document and forgets the exchange, so the session holds
// the document alone, as after Session::ingest.
hip::Result<DocumentTokens::Background> backgroundAttention(hip::Session& session,
                                                            const DocumentTokens& tokens,
                                                            const hip::CancelToken& cancel) {
    hip::GenerateOptions options; // greedy
    options.maxTokens = kBackgroundAnswerTokens;
    auto answer = session.ask(kUnrelatedQuestion, options, {}, cancel);
    session.truncate(tokens.contextTokens());
    if (!answer) return answer.status();
    if (answer->stopReason == hip::StopReason::Cancelled)
        return hip::makeError(hip::ErrorCode::Cancelled, "cancelled");
    return DocumentTokens::Background{documentShares(attentionWeights(session.trace()), tokens),
                                      documentShares(session.trace().questionMass, tokens)};
}

} // namespace

hip::Result<DocumentTokens> ingestDocument(hip::Session& session, const DocumentText& document,
                                           const IngestCallback& progress,
                                           const hip::CancelToken& cancel) {
    const std::string title = document.title.toStdString();
    if (document.text.empty())
        return hip::makeError(hip::ErrorCode::InvalidArgument,
                              "\"" + title + "\" has no text for the model to read");
    IngestProgress clock;
    hip::ProgressCallback engineProgress;
    if (progress)
        engineProgress = [&](const hip::Progress& p) {
            IngestEstimate estimate = clock.update(p);
            estimate.pages = int(document.pages.size());
            estimate.pagesRead =
                p.documentBytesDone < 0 ? 0 : pagesWithin(document, uint64_t(p.documentBytesDone));
            progress(estimate);
        };
    auto ingest = session.ingest({title, document.text}, engineProgress, cancel);
    if (!ingest) return ingest.status().withContext("reading \"" + title + "\" into the model");
    DocumentTokens tokens(std::move(*ingest));
    auto background = backgroundAttention(session, tokens, cancel);
    if (!background) {
        session.reset();
        return background.status().withContext("reading \"" + title + "\" into the model");
    }
    tokens.setBackground(std::move(*background));
    return tokens;
}

} // namespace hip::doc
