// EPUB reader: the archive checks, container, OPF (manifest, spine, nav and NCX) and the XHTML of
// the chapters, from arbitrary bytes. The XHTML converter also runs on the input itself, so the
// fuzzer reaches it without building a zip first.

#include "fuzz_target.h"

#include "document_invariants.h"
#include "fuzz_temp_file.h"

#include "document/epub_backend.h"
#include "document/xhtml_text.h"

#include <QByteArray>
#include <QString>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)hip::doc::xhtmlToText(
        QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size)));

    const QString path = QString::fromStdString(hipfuzz::writeInput("book.epub", data, size));
    hip::doc::EpubBackend epub;
    if (auto document = epub.read(path, {})) hipfuzz::checkDocument(*document);
    return 0;
}
