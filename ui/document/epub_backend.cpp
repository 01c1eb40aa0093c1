#include "document/epub_backend.h"

#include "document/document_builder.h"
#include "document/epub_package.h"
#include "document/xhtml_text.h"
#include "document/zip_archive.h"

#include <QFileInfo>
#include <QHash>

namespace hip::doc {
namespace {

// DRM schemes encrypt the chapters themselves; the only encryption EPUB allows for readable
// books is the obfuscation of embedded fonts.
bool hasEncryptedContent(ZipArchive& archive) {
    const QString path = QStringLiteral("META-INF/encryption.xml");
    if (!archive.contains(path)) return false;
    const auto data = archive.read(path);
    if (!data) return false;
    for (const QByteArray& part : data->split('"')) {
        if (!part.startsWith("http")) continue;
        if (part.contains("xmlenc#aes") || part.contains("xmlenc#tripledes") ||
            part.contains("adobe.com/adept"))
            return true;
    }
    return false;
}

bool isXhtml(const EpubSpineItem& item) {
    return item.mediaType.isEmpty() || item.mediaType.contains(QLatin1String("html")) ||
           item.mediaType.contains(QLatin1String("xml"));
}

} // namespace

hip::Result<DocumentText> EpubBackend::read(const QString& path, const ReadOptions& options) {
    const QString name = QFileInfo(path).fileName();
    auto archive = ZipArchive::open(path, options.archive);
    HIP_TRY(archive);
    if (hasEncryptedContent(*archive))
        return hip::makeError(hip::ErrorCode::Unsupported,
                              name.toStdString() +
                                  " is protected by DRM (its chapters are encrypted)");
    auto package = readEpubPackage(*archive, name);
    HIP_TRY(package);
    HIP_TRY(archive->refusal()); // an optional entry (nav, NCX) found the archive hostile

    DocumentBuilder builder;
    DocumentText& document = builder.document();
    document.title = package->title.isEmpty() ? QFileInfo(path).completeBaseName() : package->title;
    document.format = QStringLiteral("EPUB");
    document.unit = PageUnit::Chapter;
    document.warnings = package->warnings;

    QHash<QString, QString> tocTitles; // the first entry naming a file titles its chapter
    QHash<QString, QHash<QString, int64_t>> anchors; // path -> id the toc points to -> byte
    for (const EpubTocEntry& entry : package->toc) {
        if (!tocTitles.contains(entry.path)) tocTitles.insert(entry.path, entry.title);
        if (!entry.fragment.isEmpty()) anchors[entry.path].insert(entry.fragment, -1);
    }
    QHash<QString, int> chapterOfPath;

    const std::vector<EpubSpineItem>& spine = package->spine;
    for (size_t i = 0; i < spine.size(); ++i) {
        if (options.cancel.isCancelled())
            return hip::makeError(hip::ErrorCode::Cancelled,
                                  "reading " + name.toStdString() + " was cancelled");
        const EpubSpineItem& item = spine[i];
        XhtmlText chapter;
        if (isXhtml(item)) {
            auto data = archive->read(item.path);
            HIP_TRY(archive->refusal()); // hostile: refused as a whole
            if (data) {
                chapter = xhtmlToText(*data);
                if (!chapter.error.isEmpty())
                    document.warnings << QStringLiteral("chapter %1 (%2) is malformed, its text "
                                                        "stops early: %3")
                                             .arg(i + 1)
                                             .arg(item.path, chapter.error);
            } else {
                document.warnings << QStringLiteral("chapter %1 (%2) is missing: %3")
                                         .arg(i + 1)
                                         .arg(item.path, QString::fromStdString(data.message()));
            }
        }
        if (!chapter.text.isEmpty() && !builder.isEmpty()) builder.appendText(u"\n\n");

        DocumentPage page;
        page.label = QString::number(i + 1);
        page.title = tocTitles.value(item.path);
        if (page.title.isEmpty()) page.title = chapter.firstHeading;
        if (page.title.isEmpty()) page.title = chapter.title;
        const uint64_t begin = builder.size();
        builder.beginPage(std::move(page));
        builder.appendText(chapter.text);
        if (!chapterOfPath.contains(item.path)) chapterOfPath.insert(item.path, int(i));
        if (const auto wanted = anchors.find(item.path); wanted != anchors.end())
            for (auto it = wanted->begin(); it != wanted->end(); ++it)
                if (const auto at = chapter.anchors.constFind(it.key());
                    at != chapter.anchors.constEnd() && it.value() < 0)
                    it.value() = int64_t(begin) + QStringView(chapter.text)
                                                      .first(std::min(*at, chapter.text.size()))
                                                      .toUtf8()
                                                      .size();
        if (options.progress)
            options.progress({"extracting text", int64_t(i + 1), int64_t(spine.size())});
    }

    for (const EpubTocEntry& entry : package->toc) {
        OutlineEntry outline;
        outline.title = entry.title;
        outline.level = entry.level;
        outline.page = chapterOfPath.value(entry.path, -1);
        if (outline.page >= 0) {
            outline.textOffset = int64_t(document.pages[size_t(outline.page)].textBegin);
            const int64_t anchor = anchors.value(entry.path).value(entry.fragment, -1);
            if (anchor >= 0) outline.textOffset = anchor;
        }
        document.outline.push_back(outline);
    }
    if (builder.isEmpty())
        return hip::makeError(hip::ErrorCode::Unsupported,
                              name.toStdString() + " has no text in its chapters");
    return builder.take();
}

} // namespace hip::doc
