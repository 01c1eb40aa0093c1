// Plain text and Markdown: encoding detection, line ends, Markdown headings and the pager, from
// arbitrary bytes at page sizes from tiny to the default.
//
// Input: byte 0 picks Markdown or plain text (bit 0) and the page size; the rest is the file.

#include "fuzz_target.h"

#include "document_invariants.h"
#include "fuzz_temp_file.h"

#include "document/text_backend.h"
#include "document/text_pager.h"

#include <QString>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const bool markdown = data[0] & 1;
    hip::doc::ReadOptions options;
    options.textPageCharacters = data[0] & 0x80 ? 3000 : 1 + (data[0] >> 1);

    const QString path = QString::fromStdString(
        hipfuzz::writeInput(markdown ? "book.md" : "book.txt", data + 1, size - 1));
    hip::doc::TextBackend backend(markdown);
    auto document = backend.read(path, options);
    if (!document) return 0;
    hipfuzz::checkDocument(*document);

    const QString text = QString::fromUtf8(document->text);
    const std::vector<qsizetype> starts = hip::doc::pageStarts(text, options.textPageCharacters);
    for (size_t p = 0; p < starts.size(); ++p)
        if ((p == 0 && starts[p] != 0) || (p > 0 && starts[p] <= starts[p - 1]) ||
            starts[p] > text.size())
            std::abort();
    return 0;
}
