#pragma once
// PDF through Poppler-Qt6: text with per-character boxes in reading order, running heads and
// page numbers set aside, page labels, the outline, passwords, damaged and text-less pages.

#include "document/document_backend.h"

namespace hip::doc {

class PdfBackend final : public DocumentBackend {
public:
    hip::Result<DocumentText> read(const QString& path, const ReadOptions& options) override;
};

} // namespace hip::doc
