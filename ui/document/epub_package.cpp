#include "document/epub_package.h"

#include <QDir>
#include <QHash>
#include <QUrl>
#include <QXmlStreamReader>

namespace hip::doc {
namespace {

struct ManifestItem {
    QString path;
    QString mediaType;
    QString properties;
};

hip::Status damaged(const QString& fileName, const QString& why) {
    return hip::makeError(
        hip::ErrorCode::InvalidFile,
        (fileName + QStringLiteral(" is not a valid EPUB: ") + why).toStdString());
}

QString xmlError(const QXmlStreamReader& xml) {
    return QStringLiteral("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
}

// EPUB 3 navigation: the <a> links of the <nav epub:type="toc">, nested <ol> giving the level.
std::vector<EpubTocEntry> readNav(const QByteArray& data, const QString& navPath) {
    std::vector<EpubTocEntry> toc, firstNav;
    QXmlStreamReader xml(data);
    int navDepth = 0, listDepth = 0;
    bool isToc = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            if (xml.name() == QLatin1String("nav")) {
                ++navDepth;
                const QStringView type = xml.attributes().value(QStringLiteral("epub:type"));
                isToc = type.split(QLatin1Char(' ')).contains(QLatin1String("toc"));
            } else if (navDepth > 0 && xml.name() == QLatin1String("ol")) {
                ++listDepth;
            } else if (navDepth > 0 && xml.name() == QLatin1String("a")) {
                const QString href = xml.attributes().value(QStringLiteral("href")).toString();
                EpubTocEntry entry;
                entry.title =
                    xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
                entry.level = std::max(0, listDepth - 1);
                entry.path = resolveHref(navPath, href, &entry.fragment);
                if (!entry.path.isEmpty() && !entry.title.isEmpty())
                    (isToc ? toc : firstNav).push_back(entry);
            }
        } else if (xml.isEndElement()) {
            if (xml.name() == QLatin1String("nav")) {
                --navDepth;
                if (!toc.empty()) break;
            } else if (navDepth > 0 && xml.name() == QLatin1String("ol")) {
                --listDepth;
            }
        }
    }
    // Some books mark no nav as the toc: the first one is it.
    return toc.empty() ? firstNav : toc;
}

// EPUB 2 NCX: navPoints nest, each with a navLabel and a content src.
std::vector<EpubTocEntry> readNcx(const QByteArray& data, const QString& ncxPath) {
    std::vector<EpubTocEntry> toc;
    QXmlStreamReader xml(data);
    int depth = 0;
    qsizetype current = -1; // the navPoint whose label and target come next
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            if (xml.name() == QLatin1String("navPoint")) {
                ++depth;
                toc.push_back({});
                toc.back().level = depth - 1;
                current = qsizetype(toc.size()) - 1;
            } else if (current >= 0 && xml.name() == QLatin1String("text") &&
                       toc[size_t(current)].title.isEmpty()) {
                toc[size_t(current)].title = xml.readElementText().simplified();
            } else if (current >= 0 && xml.name() == QLatin1String("content")) {
                EpubTocEntry& entry = toc[size_t(current)];
                entry.path =
                    resolveHref(ncxPath, xml.attributes().value(QStringLiteral("src")).toString(),
                                &entry.fragment);
            }
        } else if (xml.isEndElement() && xml.name() == QLatin1String("navPoint")) {
            --depth;
            current = -1;
        }
    }
    std::erase_if(toc, [](const EpubTocEntry& e) { return e.path.isEmpty() || e.title.isEmpty(); });
    return toc;
}

} // namespace

QString resolveHref(const QString& base, const QString& href, QString* fragment) {
    const qsizetype hash = href.indexOf(QLatin1Char('#'));
    const QString target = hash < 0 ? href : href.left(hash);
    if (fragment) *fragment = hash < 0 ? QString() : href.mid(hash + 1);
    if (target.contains(QLatin1String("://")) || target.startsWith(QLatin1String("mailto:")))
        return {};
    const QString decoded = QUrl::fromPercentEncoding(target.toUtf8());
    if (decoded.isEmpty()) return hash < 0 ? QString() : base; // "#anchor" points into base
    const QString folder =
        base.contains(QLatin1Char('/')) ? base.section(QLatin1Char('/'), 0, -2) : QString();
    QString path =
        QDir::cleanPath(folder.isEmpty() ? decoded : folder + QLatin1Char('/') + decoded);
    if (path.startsWith(QLatin1String("../")) || path == QLatin1String("..") ||
        path.startsWith(QLatin1Char('/')))
        return {};
    return path;
}

hip::Result<EpubPackage> readEpubPackage(ZipArchive& archive, const QString& fileName) {
    const QString containerPath = QStringLiteral("META-INF/container.xml");
    if (!archive.contains(containerPath))
        return damaged(fileName, QStringLiteral("META-INF/container.xml is missing"));
    const auto container = archive.read(containerPath);
    HIP_TRY(container);

    QString opfPath;
    {
        QXmlStreamReader xml(*container);
        while (!xml.atEnd() && opfPath.isEmpty()) {
            if (xml.readNext() == QXmlStreamReader::StartElement &&
                xml.name() == QLatin1String("rootfile"))
                opfPath = resolveHref(
                    QString(), xml.attributes().value(QStringLiteral("full-path")).toString());
        }
        if (opfPath.isEmpty())
            return damaged(fileName, xml.hasError()
                                         ? QStringLiteral("container.xml: ") + xmlError(xml)
                                         : QStringLiteral("container.xml names no package"));
    }
    if (!archive.contains(opfPath))
        return damaged(fileName, QStringLiteral("the package %1 is missing").arg(opfPath));
    const auto opf = archive.read(opfPath);
    HIP_TRY(opf);

    EpubPackage package;
    QHash<QString, ManifestItem> manifest;
    QStringList spineIds;
    QString ncxId;
    {
        QXmlStreamReader xml(*opf);
        bool inMetadata = false;
        while (!xml.atEnd()) {
            xml.readNext();
            if (xml.isEndElement() && xml.name() == QLatin1String("metadata")) inMetadata = false;
            if (!xml.isStartElement()) continue;
            const QXmlStreamAttributes attributes = xml.attributes();
            if (xml.name() == QLatin1String("metadata")) {
                inMetadata = true;
            } else if (inMetadata && xml.name() == QLatin1String("title") &&
                       package.title.isEmpty()) {
                package.title =
                    xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
            } else if (xml.name() == QLatin1String("item")) {
                manifest.insert(
                    attributes.value(QStringLiteral("id")).toString(),
                    {resolveHref(opfPath, attributes.value(QStringLiteral("href")).toString()),
                     attributes.value(QStringLiteral("media-type")).toString(),
                     attributes.value(QStringLiteral("properties")).toString()});
            } else if (xml.name() == QLatin1String("spine")) {
                ncxId = attributes.value(QStringLiteral("toc")).toString();
            } else if (xml.name() == QLatin1String("itemref")) {
                spineIds << attributes.value(QStringLiteral("idref")).toString();
            }
        }
        if (xml.hasError())
            return damaged(fileName, opfPath + QStringLiteral(": ") + xmlError(xml));
    }

    for (const QString& id : spineIds) {
        const auto item = manifest.constFind(id);
        if (item == manifest.constEnd() || item->path.isEmpty()) {
            package.warnings << QStringLiteral("the reading order names \"%1\", which the package "
                                               "does not list")
                                    .arg(id);
            continue;
        }
        package.spine.push_back({item->path, item->mediaType});
    }
    if (package.spine.empty())
        return damaged(fileName, QStringLiteral("its reading order (spine) is empty"));

    // The table of contents: EPUB 3 nav, else the EPUB 2 NCX.
    for (const ManifestItem& item : manifest) {
        if (!item.properties.split(QLatin1Char(' ')).contains(QLatin1String("nav"))) continue;
        if (const auto nav = archive.read(item.path)) package.toc = readNav(*nav, item.path);
        break;
    }
    if (package.toc.empty()) {
        const auto ncx = manifest.constFind(ncxId);
        if (ncx != manifest.constEnd())
            if (const auto data = archive.read(ncx->path)) package.toc = readNcx(*data, ncx->path);
    }
    return package;
}

} // namespace hip::doc
