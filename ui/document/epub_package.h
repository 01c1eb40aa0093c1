#pragma once
// The structure of an EPUB: META-INF/container.xml names the package (OPF) document, whose
// manifest lists the files, whose spine gives the reading order, and whose navigation document
// (EPUB 3 nav) or NCX (EPUB 2) gives the table of contents.

#include "document/zip_archive.h"

#include <hip/status.h>

#include <QString>

#include <vector>

namespace hip::doc {

struct EpubTocEntry {
    QString title;
    int level = 0;
    QString path;     // archive path of the target file
    QString fragment; // anchor inside it, empty for the file's start
};

struct EpubSpineItem {
    QString path; // archive path
    QString mediaType;
};

struct EpubPackage {
    QString title;
    std::vector<EpubSpineItem> spine;
    std::vector<EpubTocEntry> toc;
    QStringList warnings;
};

hip::Result<EpubPackage> readEpubPackage(ZipArchive& archive, const QString& fileName);

// `href` (relative, percent-encoded, maybe with a #fragment) resolved against the folder of
// `base` to an archive path; empty when it leaves the archive or is an external link.
QString resolveHref(const QString& base, const QString& href, QString* fragment = nullptr);

} // namespace hip::doc
