#pragma once
// One backend per format (Okular's generators): each turns a file into the format-independent
// DocumentText.

#include "document/document_text.h"
#include "document/read_options.h"

#include <hip/status.h>

namespace hip::doc {

class DocumentBackend {
public:
    virtual ~DocumentBackend() = default;
    virtual hip::Result<DocumentText> read(const QString& path, const ReadOptions& options) = 0;
};

} // namespace hip::doc
