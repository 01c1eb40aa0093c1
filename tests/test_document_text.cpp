// Plain text and Markdown: the text comes back as it is (line ends normalized), split into
// pages of about 3000 characters at paragraph boundaries; encodings are detected; Markdown
// headings give the title, the outline and the pages' titles.

#include "test_support.h"

#include "document/document_reader.h"
#include "document/text_pager.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

using hip::doc::DocumentText;

namespace {

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

// Paragraph `n`: about 700 characters of distinct sentences.
QString paragraph(int n) {
    QStringList sentences;
    for (int s = 0; s < 10; ++s)
        sentences << QStringLiteral("Paragraph %1 sentence %2 tells of the lock keeper and the "
                                    "barges.")
                         .arg(n)
                         .arg(s);
    return sentences.join(QLatin1Char(' '));
}

DocumentText read(const QString& path) {
    auto result = hip::doc::readDocument(path);
    if (!result) qFatal("reading %s failed: %s", qPrintable(path), result.message().c_str());
    return std::move(*result);
}

} // namespace

class TestDocumentText : public QObject {
    Q_OBJECT
private slots:
    void pagesEndAtParagraphs();
    void longParagraphSplitsAtSentences();
    void lineEndsAndEncodings();
    void markdownHeadingsMakeTheOutline();
    void emptyAndBinaryFilesAreRefused();
};

void TestDocumentText::pagesEndAtParagraphs() {
    QStringList paragraphs;
    for (int n = 0; n < 12; ++n)
        paragraphs << paragraph(n);
    const QString text = paragraphs.join(QStringLiteral("\n\n")) + QLatin1Char('\n');
    QTemporaryDir dir;
    const DocumentText document = read(writeFile(dir, QStringLiteral("locks.txt"), text.toUtf8()));
    QCOMPARE(QString::fromStdString(document.text), text);
    QCOMPARE(document.format, QStringLiteral("text"));
    QCOMPARE(document.title, QStringLiteral("locks"));
    QVERIFY(document.glyphs.empty());
    QVERIFY(document.pages.size() >= 3);

    for (size_t p = 0; p < document.pages.size(); ++p) {
        QCOMPARE(document.pages[p].label, QString::number(p + 1));
        const QString page = document.textOf(document.pageRange(int(p)));
        QVERIFY2(page.size() <= 3000, qPrintable(QString::number(page.size())));
        QVERIFY(page.size() >= 1500 || p + 1 == document.pages.size());
        // A page ends where a paragraph does.
        QVERIFY(page.endsWith(QStringLiteral("barges.\n\n")) || p + 1 == document.pages.size());
    }
    // Every paragraph lies on one page, in order.
    int lastPage = 0;
    for (const QString& p : paragraphs) {
        const size_t at = document.text.find(p.toStdString());
        QVERIFY(at != std::string::npos);
        const int page = document.pageAt(at);
        QCOMPARE(document.pageAt(at + size_t(p.toUtf8().size()) - 1), page);
        QVERIFY(page >= lastPage);
        lastPage = page;
    }
}

void TestDocumentText::longParagraphSplitsAtSentences() {
    const QString text = paragraph(1) + QLatin1Char(' ') + paragraph(2) + QLatin1Char(' ') +
                         paragraph(3) + QLatin1Char(' ') + paragraph(4) + QLatin1Char(' ') +
                         paragraph(5);
    const std::vector<qsizetype> starts = hip::doc::pageStarts(text, 1000);
    QVERIFY(starts.size() >= 4);
    QCOMPARE(starts.front(), qsizetype(0));
    for (size_t i = 1; i < starts.size(); ++i) {
        QVERIFY(starts[i] - starts[i - 1] <= 1000);
        QVERIFY(starts[i] - starts[i - 1] >= 500);
        QVERIFY2(text.mid(starts[i] - 2, 2) == QStringLiteral(". "),
                 qPrintable(text.mid(starts[i] - 10, 20)));
    }
    // One endless word still becomes pages.
    const QString word(5000, QLatin1Char('x'));
    QCOMPARE(hip::doc::pageStarts(word, 3000), std::vector<qsizetype>({0, 3000}));
    // A long text without a single break pages in linear time: each page searches only itself
    // (searching back to the start of the text made it quadratic).
    const QString endless(4 << 20, QLatin1Char('x'));
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(hip::doc::pageStarts(endless, 3000).size(), size_t((4 << 20) / 3000 + 1));
    QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed()) + " ms"));
}

void TestDocumentText::lineEndsAndEncodings() {
    QTemporaryDir dir;
    // A UTF-8 byte order mark and Windows line ends.
    DocumentText document =
        read(writeFile(dir, QStringLiteral("crlf.txt"), "\xEF\xBB\xBFLine one\r\nLine two\r\r\n"));
    QCOMPARE(QString::fromStdString(document.text), QStringLiteral("Line one\nLine two\n\n"));
    QVERIFY(document.warnings.isEmpty());

    // Not UTF-8: read as Latin-1, with a warning.
    document = read(writeFile(dir, QStringLiteral("old.txt"), "caf\xE9 cr\xE8me\n"));
    QCOMPARE(QString::fromStdString(document.text), QStringLiteral("caf\u00e9 cr\u00e8me\n"));
    QCOMPARE(document.warnings,
             QStringList(QStringLiteral("old.txt is not valid UTF-8; it was read as Latin-1, so "
                                        "some characters may be wrong")));

    // UTF-16 with its byte order mark (and NUL bytes, which are not binary here).
    QByteArray utf16("\xFF\xFE", 2);
    const QString greek = QStringLiteral("\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1");
    utf16.append(reinterpret_cast<const char*>(greek.utf16()), greek.size() * 2);
    document = read(writeFile(dir, QStringLiteral("greek.txt"), utf16));
    QCOMPARE(QString::fromStdString(document.text), greek);
}

void TestDocumentText::markdownHeadingsMakeTheOutline() {
    QString markdown = QStringLiteral("# Canal Guide\n\nThe canal runs for forty miles.\n\n"
                                      "## Locks\n\n");
    for (int n = 0; n < 5; ++n)
        markdown += paragraph(n) + QStringLiteral("\n\n");
    markdown += QStringLiteral("```\n# not a heading inside code\n```\n\n## Bridges ##\n\n");
    for (int n = 5; n < 12; ++n)
        markdown += paragraph(n) + QStringLiteral("\n\n");
    QTemporaryDir dir;
    const DocumentText document =
        read(writeFile(dir, QStringLiteral("guide.md"), markdown.toUtf8()));
    QCOMPARE(document.format, QStringLiteral("Markdown"));
    QCOMPARE(document.title, QStringLiteral("Canal Guide"));
    QCOMPARE(QString::fromStdString(document.text), markdown);

    QCOMPARE(document.outline.size(), size_t(3));
    const QStringList titles = {"Canal Guide", "Locks", "Bridges"};
    for (size_t i = 0; i < 3; ++i) {
        const hip::doc::OutlineEntry& entry = document.outline[i];
        QCOMPARE(entry.title, titles[qsizetype(i)]);
        QCOMPARE(entry.level, i == 0 ? 0 : 1);
        const QString heading =
            (i == 0 ? QStringLiteral("# ") : QStringLiteral("## ")) + titles[qsizetype(i)];
        QVERIFY(QString::fromStdString(document.text.substr(size_t(entry.textOffset)))
                    .startsWith(heading));
        QCOMPARE(entry.page, document.pageAt(uint64_t(entry.textOffset)));
    }
    // A page is titled by the section it opens in.
    QCOMPARE(document.pages[0].title, QStringLiteral("Canal Guide"));
    const int bridges = document.outline[2].page;
    QVERIFY(bridges > 0);
    QCOMPARE(document.pages.back().title, QStringLiteral("Bridges"));
    const bool opensPage =
        document.pages[size_t(bridges)].textBegin == uint64_t(document.outline[2].textOffset);
    QCOMPARE(document.pages[size_t(bridges)].title,
             opensPage ? QStringLiteral("Bridges") : QStringLiteral("Locks"));
}

void TestDocumentText::emptyAndBinaryFilesAreRefused() {
    QTemporaryDir dir;
    auto empty = hip::doc::readDocument(writeFile(dir, QStringLiteral("empty.txt"), ""));
    QVERIFY(!empty);
    QCOMPARE(QString::fromStdString(empty.message()), QStringLiteral("empty.txt is empty"));

    auto binary = hip::doc::readDocument(writeFile(dir, QStringLiteral("data.bin"),
                                                   QByteArray("\x7F"
                                                              "ELF\x02\x01\x00\x00",
                                                              8)));
    QVERIFY(!binary);
    QCOMPARE(QString::fromStdString(binary.message()),
             QStringLiteral("data.bin is not a PDF, EPUB, text or Markdown file"));

    hip::doc::ReadOptions options;
    options.cancel.cancel();
    auto cancelled =
        hip::doc::readDocument(writeFile(dir, QStringLiteral("c.txt"), "some text"), options);
    QCOMPARE(cancelled.status().code(), hip::ErrorCode::Cancelled);
}

QTEST_GUILESS_MAIN(TestDocumentText)
#include "test_document_text.moc"
