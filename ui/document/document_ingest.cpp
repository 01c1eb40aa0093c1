#include "document/document_ingest.h"

namespace hip::doc {

hip::Result<DocumentTokens> ingestDocument(hip::Session& session, const DocumentText& document,
                                           const IngestCallback& progress,
                                           const hip::CancelToken& cancel) {
    const std::string title = document.title.toStdString();
    if (document.text.empty())
        return hip::makeError(hip::ErrorCode::InvalidArgument,
                              "\"" + title + "\" has no text for the model to read");
    IngestProgress clock;
    hip::ProgressCallback engineProgress;
    if (progress) engineProgress = [&](const hip::Progress& p) { progress(clock.update(p)); };
    auto ingest = session.ingest({title, document.text}, engineProgress, cancel);
    if (!ingest) return ingest.status().withContext("reading \"" + title + "\" into the model");
    return DocumentTokens(std::move(*ingest));
}

} // namespace hip::doc
