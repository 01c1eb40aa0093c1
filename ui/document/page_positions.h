#pragma once
// Where each page of a document starts among the KV positions that hold it, so that views of the
// context (the attention mask) can be drawn and labelled by page.

#include "document/document_text.h"
#include "document/document_tokens.h"

#include <cstdint>
#include <vector>

namespace hip::doc {

// Per page, the KV position of its first token (a token belongs to the page of its last byte, as
// DocumentText::pageOf says). Ascending; page p holds positions [starts[p], starts[p + 1]) and
// the last page runs to tokens.endPosition(). A page without tokens of its own (blank, or past
// the part that was read) starts where the next one does.
std::vector<int64_t> pageStartPositions(const DocumentText& document, const DocumentTokens& tokens);

} // namespace hip::doc
