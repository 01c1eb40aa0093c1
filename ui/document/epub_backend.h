#pragma once
// EPUB: the chapters of the spine in reading order, each one "page" titled from the table of
// contents (or its first heading), from an archive checked against hostile contents first.

#include "document/document_backend.h"

namespace hip::doc {

class EpubBackend final : public DocumentBackend {
public:
    hip::Result<DocumentText> read(const QString& path, const ReadOptions& options) override;
};

} // namespace hip::doc
