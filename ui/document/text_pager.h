#pragma once
// Splits reflowable text (plain text, Markdown) into pages of about a fixed number of
// characters, so citations and attention can point at "page 12" of a text file too.

#include <QStringView>

#include <vector>

namespace hip::doc {

// Where each page starts (offsets into `text`, the first is 0). Pages end at a paragraph
// boundary where one lies in the second half of the page, else at a sentence end, a line end
// or a space, and only as a last resort inside a word.
std::vector<qsizetype> pageStarts(QStringView text, qsizetype pageCharacters);

} // namespace hip::doc
