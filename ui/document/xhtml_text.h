#pragma once
// The readable text of an XHTML file (an EPUB chapter): paragraphs separated by blank lines,
// whitespace collapsed as a browser would, <pre> kept, head, scripts and styles left out.

#include <QByteArray>
#include <QHash>
#include <QString>

namespace hip::doc {

struct XhtmlText {
    QString text;
    QString title;        // <title>
    QString firstHeading; // the first <h1>..<h6>
    // Element id -> offset in `text` (UTF-16 units) of the element's first text.
    QHash<QString, qsizetype> anchors;
    QString error; // why parsing stopped early, empty when the file was read to its end
};

XhtmlText xhtmlToText(const QByteArray& xhtml);

} // namespace hip::doc
