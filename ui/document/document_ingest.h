#pragma once
// Puts a whole document into a session's context: its title and text through the engine's
// chunked prefill, with progress, speed, time left and cancel. A document that does not fit is
// refused with the engine's account of how much would; nothing is cut. Then one short answer to
// a question unrelated to the document measures its background attention (what every question
// and every answer attend to), against which cited pages are ranked (passage_finder's
// sourceWeights).

#include "document/document_text.h"
#include "document/document_tokens.h"
#include "document/ingest_progress.h"

#include <hip/cancel.h>
#include <hip/session.h>
#include <hip/status.h>

#include <functional>

namespace hip::doc {

using IngestCallback = std::function<void(const IngestEstimate&)>;

hip::Result<DocumentTokens> ingestDocument(hip::Session& session, const DocumentText& document,
                                           const IngestCallback& progress = {},
                                           const hip::CancelToken& cancel = {});

} // namespace hip::doc
