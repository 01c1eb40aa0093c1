// hipreader-make-sample: typesets the sample book (resources/sample/*.md) into the PDF that
// `hipreader --sample` opens. Run at build time, offscreen.

#include "document/book_pdf_writer.h"

#include <QFile>
#include <QGuiApplication>

#include <cstdio>

int main(int argc, char* argv[]) {
    QGuiApplication app(argc, argv); // fonts for the typesetting
    if (argc != 3) {
        std::fprintf(stderr, "usage: hipreader-make-sample BOOK.md OUTPUT.pdf\n");
        return 2;
    }
    QFile input(QString::fromLocal8Bit(argv[1]));
    if (!input.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "hipreader-make-sample: cannot read %s\n", argv[1]);
        return 1;
    }
    const hip::doc::BookText book = hip::doc::parseBookText(QString::fromUtf8(input.readAll()));
    const hip::Status written =
        hip::doc::writeBookPdf(QString::fromLocal8Bit(argv[2]), book.title, book.sections);
    if (!written) {
        std::fprintf(stderr, "hipreader-make-sample: %s\n", written.message().c_str());
        return 1;
    }
    return 0;
}
