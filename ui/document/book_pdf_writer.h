#pragma once
// Typesets a short book into a PDF with Qt (QPdfWriter): a title, then sections that each start on
// a new page, paragraphs flowing across pages, page numbers at the foot. The sample book is made
// with it at build time, and the tests make their documents with it, so neither needs a PDF
// checked into the repository.

#include <hip/status.h>

#include <QString>
#include <QStringList>

#include <vector>

namespace hip::doc {

struct BookSection {
    QString heading;
    QStringList paragraphs;
};

hip::Status writeBookPdf(const QString& path, const QString& title,
                         const std::vector<BookSection>& sections);

// Reads the sections of a Markdown-like text: "# Title" (the book's), "## Heading" (a section),
// blank-line separated paragraphs.
struct BookText {
    QString title;
    std::vector<BookSection> sections;
};
BookText parseBookText(const QString& text);

} // namespace hip::doc
