#include "document/book_pdf_writer.h"

#include <QCoreApplication>
#include <QFile>
#include <QPageLayout>
#include <QPdfWriter>
#include <QTextBlockFormat>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QTextDocument>

namespace hip::doc {

hip::Status writeBookPdf(const QString& path, const QString& title,
                         const std::vector<BookSection>& sections) {
    QPdfWriter writer(path);
    writer.setTitle(title);
    writer.setCreator(QStringLiteral("HiP Reader"));
    writer.setPageSize(QPageSize(QPageSize::A5));
    writer.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout::Millimeter);
    writer.setResolution(300);

    QTextDocument document;
    QFont body(QStringLiteral("serif"));
    body.setStyleHint(QFont::Serif);
    body.setPointSizeF(10.5);
    document.setDefaultFont(body);
    QTextCursor cursor(&document);

    QTextCharFormat titleFormat;
    titleFormat.setFontPointSize(20);
    titleFormat.setFontWeight(QFont::Bold);
    QTextBlockFormat centered;
    centered.setAlignment(Qt::AlignHCenter);
    centered.setBottomMargin(24);
    cursor.setBlockFormat(centered);
    cursor.insertText(title, titleFormat);

    QTextCharFormat headingFormat;
    headingFormat.setFontPointSize(14);
    headingFormat.setFontWeight(QFont::Bold);
    QTextCharFormat paragraphFormat;
    paragraphFormat.setFontPointSize(10.5);
    for (size_t i = 0; i < sections.size(); ++i) {
        QTextBlockFormat heading;
        heading.setTopMargin(i == 0 ? 12 : 0);
        heading.setBottomMargin(10);
        // Every section after the first starts a page, so tests know where each one is.
        if (i > 0) heading.setPageBreakPolicy(QTextFormat::PageBreak_AlwaysBefore);
        cursor.insertBlock(heading);
        cursor.insertText(sections[i].heading, headingFormat);
        for (const QString& paragraph : sections[i].paragraphs) {
            QTextBlockFormat format;
            format.setBottomMargin(6);
            format.setAlignment(Qt::AlignJustify);
            format.setLineHeight(115, QTextBlockFormat::ProportionalHeight);
            cursor.insertBlock(format);
            cursor.insertText(paragraph, paragraphFormat);
        }
    }
    document.print(&writer);
    if (!QFile::exists(path))
        return hip::makeError(
            hip::ErrorCode::NotFound,
            QCoreApplication::translate("BookPdfWriter", "%1 could not be written.")
                .arg(path)
                .toStdString());
    return hip::Status::ok();
}

BookText parseBookText(const QString& text) {
    BookText book;
    QString paragraph;
    auto flush = [&] {
        if (!paragraph.isEmpty() && !book.sections.empty())
            book.sections.back().paragraphs << paragraph.simplified();
        paragraph.clear();
    };
    for (const QString& raw : text.split(QLatin1Char('\n'))) {
        const QString line = raw.trimmed();
        if (line.startsWith(QLatin1String("## "))) {
            flush();
            book.sections.push_back({line.mid(3).trimmed(), {}});
        } else if (line.startsWith(QLatin1String("# "))) {
            flush();
            book.title = line.mid(2).trimmed();
        } else if (line.isEmpty()) {
            flush();
        } else {
            paragraph += (paragraph.isEmpty() ? QString() : QStringLiteral(" ")) + line;
        }
    }
    flush();
    return book;
}

} // namespace hip::doc
