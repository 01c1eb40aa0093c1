#include "document/document_ingest.h"

#include <algorithm>

namespace hip::doc {
namespace {

// Pages whose text lies wholly within the first `bytes` bytes of the document.
int pagesWithin(const DocumentText& document, uint64_t bytes) {
    if (bytes >= document.text.size()) return int(document.pages.size());
    return std::max(0, document.pageAt(bytes));
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
    return DocumentTokens(std::move(*ingest));
}

} // namespace hip::doc
