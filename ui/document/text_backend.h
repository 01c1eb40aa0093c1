#pragma once
// Plain text and Markdown: the file's text as it is (line ends normalized), split into pages of
// a fixed size; Markdown headings give the outline and the pages' titles.

#include "document/document_backend.h"

namespace hip::doc {

class TextBackend final : public DocumentBackend {
public:
    explicit TextBackend(bool markdown) : markdown_(markdown) {}
    hip::Result<DocumentText> read(const QString& path, const ReadOptions& options) override;

private:
    bool markdown_;
};

} // namespace hip::doc
