#include "document/pdf_backend.h"

#include "document/document_builder.h"
#include "document/pdf_furniture.h"
#include "document/pdf_reading_order.h"
#include "document/pdf_text_assembler.h"
#include "document/poppler_lock.h"

#include <poppler-qt6.h>

#include <QFileInfo>

#include <algorithm>
#include <limits>
#include <memory>

namespace hip::doc {
namespace {

// Poppler objects are destroyed under the lock too: their destructors touch shared caches.
struct LockedDelete {
    template <typename T> void operator()(T* object) const {
        PopplerLock lock;
        delete object;
    }
};
using PdfDocument = std::unique_ptr<Poppler::Document, LockedDelete>;

// Poppler polls this while it extracts a page's text, so a cancel stops a huge page too.
bool extractionCancelled(const QVariant& closure) {
    return static_cast<const CancelToken*>(closure.constData())->isCancelled();
}

// Poppler reports recoverable oddities as warnings; only errors mean lost content.
QStringList errorsOnly(const QStringList& messages) {
    QStringList errors;
    for (const QString& message : messages)
        if (message.contains(QLatin1String("Error"), Qt::CaseInsensitive)) errors << message;
    return errors;
}

QString pdfErrorDetail(const QStringList& messages) {
    const QStringList errors = errorsOnly(messages);
    if (errors.isEmpty()) return {};
    return QStringLiteral(" (Poppler: %1)").arg(errors.mid(0, 3).join(QStringLiteral("; ")));
}

// "3, 5-9, 12": page numbers as a person counts them, runs collapsed.
QString describePages(const std::vector<int>& pages) {
    QStringList parts;
    for (size_t i = 0; i < pages.size();) {
        size_t j = i;
        while (j + 1 < pages.size() && pages[j + 1] == pages[j] + 1)
            ++j;
        parts << (i == j ? QString::number(pages[i] + 1)
                         : QStringLiteral("%1-%2").arg(pages[i] + 1).arg(pages[j] + 1));
        i = j + 1;
    }
    return (pages.size() == 1 ? QStringLiteral("page ") : QStringLiteral("pages ")) +
           parts.join(QStringLiteral(", "));
}

// Poppler gives a box per character of the word; when a font's map disagrees with the text,
// the word's box is shared out evenly so every character still has a place.
LayoutWord layoutWord(const Poppler::TextBox& box, double width, double height) {
    LayoutWord word;
    word.text = box.text();
    word.spaceAfter = box.hasSpaceAfter();
    auto normalized = [&](const QRectF& r) {
        return NormalizedRect{float(r.left() / width), float(r.top() / height),
                              float(r.right() / width), float(r.bottom() / height)};
    };
    const qsizetype characters = QStringView(word.text).toUcs4().size();
    word.charBoxes.reserve(size_t(characters));
    // Poppler has no public count of its per-character boxes; a word's text and boxes agree
    // unless the font maps one glyph to several code points, which shows as boxes past the end.
    const NormalizedRect whole = normalized(box.boundingBox());
    const NormalizedRect last = normalized(box.charBoundingBox(int(characters) - 1));
    if (characters == 0 || last.isNull()) {
        const float step = whole.width() / float(std::max<qsizetype>(characters, 1));
        for (qsizetype i = 0; i < characters; ++i)
            word.charBoxes.push_back({whole.left + step * float(i), whole.top,
                                      whole.left + step * float(i + 1), whole.bottom});
        return word;
    }
    for (qsizetype i = 0; i < characters; ++i)
        word.charBoxes.push_back(normalized(box.charBoundingBox(int(i))));
    return word;
}

PageLayout pageLayout(const std::vector<std::unique_ptr<Poppler::TextBox>>& boxes, QSizeF size) {
    PageLayout layout;
    layout.widthPoints = size.width();
    layout.heightPoints = size.height();
    if (size.width() <= 0 || size.height() <= 0) return layout;
    LayoutLine line;
    for (const auto& box : boxes) {
        LayoutWord word = layoutWord(*box, size.width(), size.height());
        for (const NormalizedRect& r : word.charBoxes)
            line.box = line.box.united(r);
        line.words.push_back(std::move(word));
        // Poppler links the words of one line; the last word of a line has no successor.
        if (!box->nextWord()) layout.lines.push_back(std::exchange(line, {}));
    }
    if (!line.words.empty()) layout.lines.push_back(std::move(line));
    return layout;
}

void appendOutline(const QVector<Poppler::OutlineItem>& items, int level,
                   std::vector<OutlineEntry>& outline) {
    for (const Poppler::OutlineItem& item : items) {
        OutlineEntry entry;
        entry.title = item.name().simplified();
        entry.level = level;
        if (const auto destination = item.destination()) {
            entry.page = destination->pageNumber() - 1;
            if (destination->isChangeTop()) entry.top = std::clamp(destination->top(), 0.0, 1.0);
        }
        outline.push_back(entry);
        if (item.hasChildren()) appendOutline(item.children(), level + 1, outline);
    }
}

// Asks for the password until it opens the document or the user gives up.
hip::Status unlock(Poppler::Document& document, const QString& name, const ReadOptions& options) {
    constexpr int kMaxAttempts = 10; // a callback that keeps answering wrongly cannot loop forever
    bool wrong = false;
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
        if (!options.password)
            return hip::makeError(hip::ErrorCode::InvalidArgument,
                                  name.toStdString() +
                                      " is protected by a password; give the password to open it");
        // The prompt may wait on a person: Poppler stays free for other documents meanwhile.
        const std::optional<QString> password = options.password({name, attempt, wrong});
        if (!password)
            return hip::makeError(hip::ErrorCode::InvalidArgument,
                                  wrong ? "the password for " + name.toStdString() + " is wrong"
                                        : name.toStdString() +
                                              " is protected by a password and none was given");
        PopplerLock lock;
        // AES-256 files take the password as UTF-8, older ones as Latin-1.
        document.unlock(password->toUtf8(), password->toUtf8());
        if (document.isLocked()) document.unlock(password->toLatin1(), password->toLatin1());
        if (!document.isLocked()) return hip::Status::ok();
        wrong = true;
    }
    return hip::makeError(hip::ErrorCode::InvalidArgument,
                          "the password for " + name.toStdString() + " is wrong (" +
                              std::to_string(kMaxAttempts) + " attempts)");
}

} // namespace

hip::Result<DocumentText> PdfBackend::read(const QString& path, const ReadOptions& options) {
    const QString name = QFileInfo(path).fileName();
    PdfDocument document;
    bool locked = false;
    {
        PopplerLock lock;
        document.reset(Poppler::Document::load(path).release());
        if (!document)
            return hip::makeError(hip::ErrorCode::InvalidFile,
                                  (name + QStringLiteral(" is damaged or not a PDF") +
                                   pdfErrorDetail(lock.takeErrors()))
                                      .toStdString());
        locked = document->isLocked();
    }
    if (locked) HIP_TRY(unlock(*document, name, options));

    int pageCount = 0;
    DocumentBuilder builder;
    DocumentText& text = builder.document();
    {
        PopplerLock lock;
        pageCount = document->numPages();
        text.title = document->info(QStringLiteral("Title")).simplified();
        appendOutline(document->outline(), 0, text.outline);
    }
    if (pageCount <= 0)
        return hip::makeError(hip::ErrorCode::InvalidFile,
                              name.toStdString() + " has no pages; it is damaged");
    if (text.title.isEmpty()) text.title = QFileInfo(path).completeBaseName();
    text.format = QStringLiteral("PDF");

    std::vector<PageLayout> layouts(static_cast<size_t>(pageCount));
    QStringList labels;
    std::vector<int> damaged;
    QStringList damage;
    const QVariant cancelClosure = QVariant::fromValue(options.cancel);
    for (int i = 0; i < pageCount; ++i) {
        if (options.cancel.isCancelled())
            return hip::makeError(hip::ErrorCode::Cancelled,
                                  "reading " + name.toStdString() + " was cancelled");
        PopplerLock lock;
        std::unique_ptr<Poppler::Page> page = document->page(i);
        if (!page) {
            labels << QString::number(i + 1);
            damaged.push_back(i);
            damage << QStringLiteral("page %1 could not be read%2")
                          .arg(i + 1)
                          .arg(pdfErrorDetail(lock.takeErrors()));
            continue;
        }
        const QString label = page->label();
        labels << (label.isEmpty() ? QString::number(i + 1) : label);
        const auto boxes =
            page->textList(Poppler::Page::Rotate0, extractionCancelled, cancelClosure);
        layouts[size_t(i)] = pageLayout(boxes, page->pageSizeF());
        if (const QString detail = pdfErrorDetail(lock.takeErrors()); !detail.isEmpty()) {
            damaged.push_back(i);
            damage << QStringLiteral("page %1 is damaged, its text may be incomplete%2")
                          .arg(i + 1)
                          .arg(detail);
        }
        if (options.progress) options.progress({"extracting text", i + 1, pageCount});
    }
    // Poppler stops extracting mid-page when cancelled; that page must not count as read.
    if (options.cancel.isCancelled())
        return hip::makeError(hip::ErrorCode::Cancelled,
                              "reading " + name.toStdString() + " was cancelled");

    const FurnitureMarks furniture = detectFurniture(layouts, labels);
    PdfTextAssembler assembler(builder);
    std::vector<int> textless;
    for (size_t p = 0; p < layouts.size(); ++p) {
        DocumentPage page;
        page.label = labels[qsizetype(p)];
        page.widthPoints = layouts[p].widthPoints;
        page.heightPoints = layouts[p].heightPoints;
        std::vector<const LayoutLine*> body;
        std::vector<NormalizedRect> bodyBoxes;
        for (size_t l = 0; l < layouts[p].lines.size(); ++l) {
            const LayoutLine& line = layouts[p].lines[l];
            if (const auto kind = furniture[p][l]) {
                page.furniture.push_back({*kind, line.text(), line.box});
            } else {
                body.push_back(&line);
                bodyBoxes.push_back(line.box);
            }
        }
        if (layouts[p].lines.empty() &&
            std::find(damaged.begin(), damaged.end(), int(p)) == damaged.end())
            textless.push_back(int(p));
        std::vector<const LayoutLine*> ordered;
        ordered.reserve(body.size());
        for (int index : readingOrder(bodyBoxes))
            ordered.push_back(body[size_t(index)]);
        assembler.addPage(std::move(page), ordered);
    }
    assembler.finish();
    if (builder.size() > std::numeric_limits<uint32_t>::max())
        return hip::makeError(hip::ErrorCode::Unsupported,
                              name.toStdString() + " has more than 4 GiB of text");

    if (builder.isEmpty()) {
        if (damaged.size() == size_t(pageCount))
            return hip::makeError(hip::ErrorCode::InvalidFile,
                                  name.toStdString() + " is damaged: no page could be read");
        return hip::makeError(
            hip::ErrorCode::Unsupported,
            name.toStdString() +
                " has no text layer: its pages are images (a scan?). Run OCR on it first, for "
                "example with ocrmypdf, and open the result.");
    }
    text.warnings << damage;
    if (!textless.empty())
        text.warnings << describePages(textless) +
                             (textless.size() == 1
                                  ? QStringLiteral(" has no text (a scanned image?) and is not "
                                                   "part of what the model reads")
                                  : QStringLiteral(" have no text (scanned images?) and are not "
                                                   "part of what the model reads"));
    return builder.take();
}

} // namespace hip::doc
