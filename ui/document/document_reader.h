#pragma once
// Reads a document of any supported format (PDF, EPUB, plain text, Markdown) into a DocumentText.

#include "document/document_text.h"
#include "document/read_options.h"

#include <hip/status.h>

namespace hip::doc {

// Picks the backend by the file's content (PDF and zip signatures) and then its suffix.
hip::Result<DocumentText> readDocument(const QString& path, const ReadOptions& options = {});

} // namespace hip::doc
