#include "document/text_backend.h"

#include "document/document_builder.h"
#include "document/text_pager.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringDecoder>

namespace hip::doc {
namespace {

// Far beyond any book (the longest novels are a few MB), small enough to hold in memory.
constexpr qint64 kMaxTextBytes = 256ll << 20;

struct Heading {
    qsizetype offset = 0; // in the decoded text
    int level = 0;
    QString title;
};

// ATX headings ("## Title"), outside fenced code blocks.
std::vector<Heading> markdownHeadings(const QString& text) {
    static const QRegularExpression heading(QStringLiteral(R"(^(#{1,6})[ \t]+(.+?)[ \t#]*$)"));
    std::vector<Heading> headings;
    bool inFence = false;
    qsizetype lineStart = 0;
    while (lineStart < text.size()) {
        qsizetype lineEnd = text.indexOf(QLatin1Char('\n'), lineStart);
        if (lineEnd < 0) lineEnd = text.size();
        const QStringView line = QStringView(text).mid(lineStart, lineEnd - lineStart);
        if (line.startsWith(QLatin1String("```")) || line.startsWith(QLatin1String("~~~"))) {
            inFence = !inFence;
        } else if (!inFence && line.startsWith(QLatin1Char('#'))) {
            if (const auto m = heading.match(line.toString()); m.hasMatch())
                headings.push_back({lineStart, int(m.capturedLength(1)) - 1, m.captured(2)});
        }
        lineStart = lineEnd + 1;
    }
    return headings;
}

QString decode(const QByteArray& data, const QString& name, QStringList& warnings) {
    if (const auto encoding = QStringConverter::encodingForData(data)) {
        QStringDecoder decoder(*encoding);
        return decoder(data);
    }
    QStringDecoder utf8(QStringDecoder::Utf8);
    QString text = utf8(data);
    if (!utf8.hasError()) return text;
    warnings << QStringLiteral("%1 is not valid UTF-8; it was read as Latin-1, so some "
                               "characters may be wrong")
                    .arg(name);
    return QString::fromLatin1(data);
}

} // namespace

hip::Result<DocumentText> TextBackend::read(const QString& path, const ReadOptions& options) {
    const QString name = QFileInfo(path).fileName();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return hip::makeError(
            hip::ErrorCode::NotFound,
            (QStringLiteral("cannot open %1: %2").arg(name, file.errorString())).toStdString());
    if (file.size() > kMaxTextBytes)
        return hip::makeError(
            hip::ErrorCode::Unsupported,
            (QStringLiteral("%1 is %2 MB, too large for a book").arg(name).arg(file.size() >> 20))
                .toStdString());
    DocumentBuilder builder;
    DocumentText& document = builder.document();
    QString text = decode(file.readAll(), name, document.warnings);
    text.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    text.replace(QLatin1Char('\r'), QLatin1Char('\n'));

    document.format = markdown_ ? QStringLiteral("Markdown") : QStringLiteral("text");
    document.title = QFileInfo(path).completeBaseName();
    const std::vector<Heading> headings =
        markdown_ ? markdownHeadings(text) : std::vector<Heading>{};
    for (const Heading& h : headings)
        if (h.level == 0) {
            document.title = h.title;
            break;
        }

    const std::vector<qsizetype> starts = pageStarts(text, options.textPageCharacters);
    size_t nextHeading = 0;
    QString currentTitle;
    for (size_t p = 0; p < starts.size(); ++p) {
        if (options.cancel.isCancelled())
            return hip::makeError(hip::ErrorCode::Cancelled,
                                  "reading " + name.toStdString() + " was cancelled");
        const qsizetype begin = starts[p];
        const qsizetype end = p + 1 < starts.size() ? starts[p + 1] : text.size();
        const QStringView slice = QStringView(text).mid(begin, end - begin);
        const uint64_t pageByte = builder.size();

        DocumentPage page;
        page.label = QString::number(p + 1);
        // The section the page opens in, or the first one that starts on it.
        page.title = currentTitle;
        for (; nextHeading < headings.size() && headings[nextHeading].offset < end; ++nextHeading) {
            const Heading& h = headings[nextHeading];
            if (page.title.isEmpty() || h.offset == begin) page.title = h.title;
            currentTitle = h.title;
            OutlineEntry entry;
            entry.title = h.title;
            entry.level = h.level;
            entry.page = int(p);
            entry.textOffset = int64_t(pageByte) + slice.left(h.offset - begin).toUtf8().size();
            document.outline.push_back(entry);
        }
        builder.beginPage(std::move(page));
        builder.appendText(slice);
        if (options.progress)
            options.progress({"extracting text", int64_t(p + 1), int64_t(starts.size())});
    }
    if (builder.isEmpty())
        return hip::makeError(hip::ErrorCode::InvalidArgument, name.toStdString() + " is empty");
    return builder.take();
}

} // namespace hip::doc
