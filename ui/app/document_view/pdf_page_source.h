#pragma once
// PDF pages rendered by Poppler. Every Poppler call takes the application's Poppler lock
// (hip::doc::PopplerLock), so rendering here and text extraction elsewhere never overlap.

#include "document_view/page_source.h"

#include <hip/status.h>

#include <QByteArray>
#include <QString>

#include <memory>

namespace Poppler {
class Document;
}

namespace hip::ui {

class PdfPageSource final : public PageSource {
public:
    // Opens the file for rendering (with the password the reader was given, if any).
    static hip::Result<std::unique_ptr<PdfPageSource>>
    open(const QString& path, const QByteArray& password,
         std::shared_ptr<const doc::DocumentText> document);
    ~PdfPageSource() override;

    int pageCount() const override;
    QSizeF pageSize(int page) const override;
    QImage render(int page, double pixelsPerPoint) const override;
    std::vector<doc::NormalizedRect> boxes(int page, hip::TextRange range) const override;
    std::optional<uint64_t> byteAt(int page, QPointF point) const override;

private:
    PdfPageSource(std::unique_ptr<Poppler::Document> pdf, std::vector<QSizeF> sizes,
                  std::shared_ptr<const doc::DocumentText> document);

    std::unique_ptr<Poppler::Document> pdf_;
    std::vector<QSizeF> sizes_;
};

} // namespace hip::ui
