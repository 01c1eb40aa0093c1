#include "document/document_reader.h"

#include "document/epub_backend.h"
#include "document/pdf_backend.h"
#include "document/text_backend.h"

#include <QFile>
#include <QFileInfo>
#include <QStringConverter>

#include <memory>

namespace hip::doc {
namespace {

enum class Format { Pdf, Epub, Markdown, Text, Binary };

// The content decides where it can (a PDF named .txt is still a PDF); the suffix decides
// between the text formats.
Format detectFormat(const QString& path, const QByteArray& head) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (head.left(1024).contains("%PDF-")) return Format::Pdf;
    if (head.startsWith("PK\x03\x04") || suffix == QLatin1String("epub")) return Format::Epub;
    if (suffix == QLatin1String("pdf")) return Format::Pdf; // damaged: the backend says so
    // NUL bytes mean binary data, unless the text is UTF-16 or UTF-32 (marked by a BOM).
    if (head.contains('\0') && !QStringConverter::encodingForData(head)) return Format::Binary;
    if (suffix == QLatin1String("md") || suffix == QLatin1String("markdown"))
        return Format::Markdown;
    return Format::Text;
}

std::unique_ptr<DocumentBackend> backendFor(Format format) {
    switch (format) {
    case Format::Pdf:
        return std::make_unique<PdfBackend>();
    case Format::Epub:
        return std::make_unique<EpubBackend>();
    case Format::Markdown:
        return std::make_unique<TextBackend>(true);
    case Format::Text:
        return std::make_unique<TextBackend>(false);
    case Format::Binary:
        break;
    }
    return nullptr;
}

} // namespace

hip::Result<DocumentText> readDocument(const QString& path, const ReadOptions& options) {
    const QString name = QFileInfo(path).fileName();
    QFile file(path);
    if (!QFileInfo(path).isFile() || !file.open(QIODevice::ReadOnly))
        return hip::makeError(
            hip::ErrorCode::NotFound,
            (QStringLiteral("cannot open %1: %2")
                 .arg(path, QFileInfo::exists(path) ? file.errorString()
                                                    : QStringLiteral("no such file")))
                .toStdString());
    const QByteArray head = file.read(4096);
    file.close();
    const std::unique_ptr<DocumentBackend> backend = backendFor(detectFormat(path, head));
    if (!backend)
        return hip::makeError(hip::ErrorCode::Unsupported,
                              name.toStdString() + " is not a PDF, EPUB, text or Markdown file");
    return backend->read(path, options);
}

} // namespace hip::doc
