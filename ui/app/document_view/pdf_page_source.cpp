#include "document_view/pdf_page_source.h"

#include "document/poppler_lock.h"
#include "document_view/glyph_geometry.h"

#include <poppler-qt6.h>

#include <QCoreApplication>

namespace hip::ui {

hip::Result<std::unique_ptr<PdfPageSource>>
PdfPageSource::open(const QString& path, const QByteArray& password,
                    std::shared_ptr<const doc::DocumentText> document) {
    doc::PopplerLock lock;
    std::unique_ptr<Poppler::Document> pdf = Poppler::Document::load(path);
    if (!pdf)
        return hip::makeError(
            hip::ErrorCode::InvalidFile,
            QCoreApplication::translate("PdfPageSource", "%1 cannot be opened as a PDF.")
                .arg(path)
                .toStdString());
    if (pdf->isLocked()) pdf->unlock(password, password);
    pdf->setRenderHint(Poppler::Document::Antialiasing);
    pdf->setRenderHint(Poppler::Document::TextAntialiasing);
    pdf->setRenderHint(Poppler::Document::TextHinting);
    std::vector<QSizeF> sizes;
    const int pages = pdf->numPages();
    sizes.reserve(size_t(pages));
    for (int i = 0; i < pages; ++i) {
        std::unique_ptr<Poppler::Page> page = pdf->page(i);
        // A page Poppler cannot parse still takes its place, at A4, so page numbers line up.
        sizes.push_back(page ? page->pageSizeF() : QSizeF(595, 842));
    }
    return std::unique_ptr<PdfPageSource>(
        new PdfPageSource(std::move(pdf), std::move(sizes), std::move(document)));
}

PdfPageSource::PdfPageSource(std::unique_ptr<Poppler::Document> pdf, std::vector<QSizeF> sizes,
                             std::shared_ptr<const doc::DocumentText> document)
    : PageSource(std::move(document)), pdf_(std::move(pdf)), sizes_(std::move(sizes)) {}

PdfPageSource::~PdfPageSource() {
    doc::PopplerLock lock;
    pdf_.reset();
}

int PdfPageSource::pageCount() const {
    return int(sizes_.size());
}

QSizeF PdfPageSource::pageSize(int page) const {
    return sizes_.at(size_t(page));
}

QImage PdfPageSource::render(int page, double pixelsPerPoint) const {
    doc::PopplerLock lock;
    std::unique_ptr<Poppler::Page> p = pdf_->page(page);
    if (!p) return {};
    const double dpi = 72.0 * pixelsPerPoint;
    return p->renderToImage(dpi, dpi);
}

std::vector<doc::NormalizedRect> PdfPageSource::boxes(int page, hip::TextRange range) const {
    const hip::TextRange pageRange = document().pageRange(page);
    range.begin = std::max(range.begin, pageRange.begin);
    range.end = std::min(range.end, pageRange.end);
    if (range.begin >= range.end) return {};
    return lineBoxes(glyphsIn(document().glyphs, pageRange), range);
}

std::optional<uint64_t> PdfPageSource::byteAt(int page, QPointF point) const {
    const hip::TextRange pageRange = document().pageRange(page);
    return byteNear(glyphsIn(document().glyphs, pageRange), point, pageRange.end);
}

} // namespace hip::ui
