#pragma once
// The first pages of a document as a document of their own: what is read into the model when the
// whole book does not fit and the user chose to read what does. Byte offsets and page indices are
// those of the whole document, so everything mapped through the prefix applies to the whole.

#include "document/document_text.h"

namespace hip::ui {

doc::DocumentText firstPages(const doc::DocumentText& document, int pageCount);

} // namespace hip::ui
