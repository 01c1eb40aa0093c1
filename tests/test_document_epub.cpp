// EPUB reading: archives built here with libzip come back as their chapters in spine order,
// titled from the navigation document, the NCX or the first heading, with XHTML turned into
// paragraphs; hostile archives (path tricks, too many entries, huge entries, zip bombs, DRM)
// are refused with a message that says why.

#include "test_support.h"

#include "document/document_reader.h"

#include <QTemporaryDir>

#include <zip.h>

using hip::doc::DocumentText;

namespace {

struct Entry {
    QString name;
    QByteArray data;
};

// Writes a zip; the mimetype entry is stored, as EPUB asks, the rest deflated.
void writeZip(const QString& path, const QList<Entry>& entries) {
    int error = 0;
    zip_t* archive = zip_open(path.toUtf8().constData(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    if (!archive) qFatal("cannot create %s", qPrintable(path));
    for (const Entry& entry : entries) {
        zip_source_t* source =
            zip_source_buffer(archive, entry.data.constData(), zip_uint64_t(entry.data.size()), 0);
        const zip_int64_t index = zip_file_add(archive, entry.name.toUtf8().constData(), source,
                                               ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
        if (index < 0) qFatal("cannot add %s: %s", qPrintable(entry.name), zip_strerror(archive));
        zip_set_file_compression(
            archive, zip_uint64_t(index),
            entry.name == QLatin1String("mimetype") ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
    }
    if (zip_close(archive) != 0) qFatal("cannot write %s", qPrintable(path));
}

QByteArray xhtml(const QByteArray& body, const QByteArray& title = "ignored") {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
           "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
           "\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n"
           "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>" +
           title + "</title><style>p { margin: 0 }</style></head><body>" + body + "</body></html>";
}

const QByteArray kContainer =
    "<?xml version=\"1.0\"?><container version=\"1.0\" "
    "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
    "<rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>"
    "</rootfiles></container>";

// EPUB 3: the manifest lists chapter two first, the spine reads one, two, three; the nav
// titles one and two (and an anchor inside two); chapter three is titled by its heading.
QList<Entry> lighthouseBook() {
    const QByteArray opf =
        "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">"
        "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<dc:title>The Lighthouse Keeper</dc:title></metadata><manifest>"
        "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
        "properties=\"nav\"/>"
        "<item id=\"two\" href=\"chapter%202.xhtml\" media-type=\"application/xhtml+xml\"/>"
        "<item id=\"one\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>"
        "<item id=\"three\" href=\"text/ch3.xhtml\" media-type=\"application/xhtml+xml\"/>"
        "<item id=\"css\" href=\"style.css\" media-type=\"text/css\"/>"
        "</manifest><spine><itemref idref=\"one\"/><itemref idref=\"two\"/>"
        "<itemref idref=\"three\"/></spine></package>";
    const QByteArray nav =
        xhtml("<nav xmlns:epub=\"http://www.idpf.org/2007/ops\" epub:type=\"landmarks\"><ol>"
              "<li><a href=\"ch1.xhtml\">Start of the book</a></li></ol></nav>"
              "<nav xmlns:epub=\"http://www.idpf.org/2007/ops\" epub:type=\"toc\"><ol>"
              "<li><a href=\"ch1.xhtml\">The <em>Storm</em></a></li>"
              "<li><a href=\"chapter%202.xhtml\">Morning</a><ol>"
              "<li><a href=\"chapter%202.xhtml#letter\">A Letter</a></li></ol></li>"
              "</ol></nav>");
    const QByteArray one =
        xhtml("<h1>The Storm</h1><p>The wind rose at dusk.&nbsp;Waves broke over the rocks.</p>"
              "<p>Maria lit the lamp &mdash; as always.</p><script>var ignored = 1;</script>");
    const QByteArray two =
        xhtml("<h2>Morning</h2><p>Calm   water\n   shone.</p><div id=\"letter\"><p>Dear Maria,<br/>"
              "the supply boat is late.</p></div><pre>  keep   this\n  as is</pre>");
    const QByteArray three = xhtml("<h1>Epilogue</h1><p>The light still turns.</p>");
    return {{"mimetype", "application/epub+zip"}, {"META-INF/container.xml", kContainer},
            {"OEBPS/content.opf", opf},           {"OEBPS/nav.xhtml", nav},
            {"OEBPS/chapter 2.xhtml", two},       {"OEBPS/ch1.xhtml", one},
            {"OEBPS/text/ch3.xhtml", three},      {"OEBPS/style.css", "p { margin: 0 }"}};
}

const QString kLighthouseText = QStringLiteral(
    "The Storm\n\nThe wind rose at dusk. Waves broke over the rocks.\n\nMaria lit the lamp "
    "\u2014 as always.\n\nMorning\n\nCalm water shone.\n\nDear Maria,\nthe supply boat is late."
    "\n\n  keep   this\n  as is\n\nEpilogue\n\nThe light still turns.");

QString writeEpub(const QTemporaryDir& dir, const QList<Entry>& entries,
                  const QString& name = QStringLiteral("book.epub")) {
    const QString path = dir.filePath(name);
    writeZip(path, entries);
    return path;
}

QString refusal(const QString& path, const hip::doc::ReadOptions& options = {}) {
    const auto result = hip::doc::readDocument(path, options);
    if (result) return QStringLiteral("(read without complaint)");
    return QString::fromStdString(result.message());
}

} // namespace

class TestDocumentEpub : public QObject {
    Q_OBJECT
private slots:
    void readsChaptersInSpineOrder();
    void titlesFromNcxAndHeadings();
    void malformedChapterKeepsItsStart();
    void refusesPathTricks();
    void refusesTooManyEntries();
    void refusesHugeEntries();
    void refusesZipBomb();
    void refusesTooMuchInTotal();
    void refusesDrm();
    void reportsBrokenArchives();
};

void TestDocumentEpub::readsChaptersInSpineOrder() {
    QTemporaryDir dir;
    hip::doc::ReadOptions options;
    QList<int64_t> progress;
    options.progress = [&](const hip::Progress& p) { progress << p.done; };
    auto result = hip::doc::readDocument(writeEpub(dir, lighthouseBook()), options);
    QVERIFY2(result, result.message().c_str());
    const DocumentText& document = *result;
    QCOMPARE(document.format, QStringLiteral("EPUB"));
    QCOMPARE(document.title, QStringLiteral("The Lighthouse Keeper"));
    QCOMPARE(QString::fromStdString(document.text), kLighthouseText);
    QCOMPARE(progress, QList<int64_t>({1, 2, 3}));
    QVERIFY(document.glyphs.empty()); // reflowable: chapters, not boxes
    QVERIFY(document.warnings.isEmpty());

    QCOMPARE(document.unit, hip::doc::PageUnit::Chapter);
    QCOMPARE(document.pages.size(), size_t(3));
    const QStringList titles = {"The Storm", "Morning", "Epilogue"};
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(document.pages[size_t(i)].label, QString::number(i + 1));
        QCOMPARE(document.pages[size_t(i)].title, titles[i]);
    }
    QCOMPARE(document.pageName(1), QStringLiteral("chapter 2, Morning"));
    QCOMPARE(document.textOf(document.pageRange(2)),
             QStringLiteral("Epilogue\n\nThe light still turns."));
    const auto at = [&](const char* text) { return document.pageAt(document.text.find(text)); };
    QCOMPARE(at("Waves broke"), 0);
    QCOMPARE(at("supply boat"), 1);
    QCOMPARE(at("still turns"), 2);

    QCOMPARE(document.outline.size(), size_t(3));
    QCOMPARE(document.outline[0].title, QStringLiteral("The Storm"));
    QCOMPARE(document.outline[0].page, 0);
    QCOMPARE(document.outline[1].title, QStringLiteral("Morning"));
    QCOMPARE(document.outline[1].page, 1);
    QCOMPARE(document.outline[2].title, QStringLiteral("A Letter"));
    QCOMPARE(document.outline[2].level, 1);
    QCOMPARE(document.outline[2].page, 1);
    QCOMPARE(document.outline[2].textOffset, int64_t(document.text.find("Dear Maria")));
}

void TestDocumentEpub::titlesFromNcxAndHeadings() {
    // EPUB 2: an NCX instead of a nav document, naming only the first chapter.
    const QByteArray opf =
        "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\">"
        "<metadata/><manifest>"
        "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>"
        "<item id=\"a\" href=\"a.html\" media-type=\"application/xhtml+xml\"/>"
        "<item id=\"b\" href=\"b.html\" media-type=\"application/xhtml+xml\"/>"
        "</manifest><spine toc=\"ncx\"><itemref idref=\"a\"/><itemref idref=\"b\"/>"
        "<itemref idref=\"missing\"/></spine></package>";
    const QByteArray ncx =
        "<?xml version=\"1.0\"?><ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\"><navMap>"
        "<navPoint id=\"p1\"><navLabel><text>Arrival</text></navLabel>"
        "<content src=\"a.html\"/></navPoint></navMap></ncx>";
    QTemporaryDir dir;
    const QString path =
        writeEpub(dir,
                  {{"mimetype", "application/epub+zip"},
                   {"META-INF/container.xml", kContainer},
                   {"OEBPS/content.opf", opf},
                   {"OEBPS/toc.ncx", ncx},
                   {"OEBPS/a.html", xhtml("<p>The train came in late.</p>")},
                   {"OEBPS/b.html", xhtml("<h3>Departure</h3><p>Nobody waved.</p>", "Untitled")}},
                  QStringLiteral("trains.epub"));
    auto result = hip::doc::readDocument(path);
    QVERIFY2(result, result.message().c_str());
    QCOMPARE(result->title, QStringLiteral("trains")); // no dc:title: the file's name
    QCOMPARE(QString::fromStdString(result->text),
             QStringLiteral("The train came in late.\n\nDeparture\n\nNobody waved."));
    QCOMPARE(result->pages[0].title, QStringLiteral("Arrival"));
    QCOMPARE(result->pages[1].title, QStringLiteral("Departure"));
    QCOMPARE(result->warnings,
             QStringList(QStringLiteral("the reading order names \"missing\", which the package "
                                        "does not list")));
}

void TestDocumentEpub::malformedChapterKeepsItsStart() {
    QList<Entry> entries = lighthouseBook();
    for (Entry& entry : entries)
        if (entry.name == QLatin1String("OEBPS/text/ch3.xhtml"))
            entry.data = "<html><body><p>The light still turns.</p><p>Broken <b>markup</p>";
    QTemporaryDir dir;
    auto result = hip::doc::readDocument(writeEpub(dir, entries));
    QVERIFY2(result, result.message().c_str());
    QVERIFY(QString::fromStdString(result->text)
                .endsWith(QStringLiteral("as is\n\nThe light still turns.\n\nBroken markup")));
    QCOMPARE(result->warnings.size(), 1);
    QVERIFY2(result->warnings[0].startsWith(
                 QStringLiteral("chapter 3 (OEBPS/text/ch3.xhtml) is malformed, its text stops "
                                "early:")),
             qPrintable(result->warnings[0]));
}

void TestDocumentEpub::refusesPathTricks() {
    QTemporaryDir dir;
    QList<Entry> climbing = lighthouseBook();
    climbing << Entry{"OEBPS/../../evil.xhtml", "x"};
    QCOMPARE(refusal(writeEpub(dir, climbing, QStringLiteral("climb.epub"))),
             QStringLiteral("climb.epub was refused: entry \"OEBPS/../../evil.xhtml\" points "
                            "outside the archive"));
    QList<Entry> absolute = lighthouseBook();
    absolute << Entry{"/etc/evil", "x"};
    QCOMPARE(refusal(writeEpub(dir, absolute, QStringLiteral("absolute.epub"))),
             QStringLiteral("absolute.epub was refused: entry \"/etc/evil\" points outside the "
                            "archive"));
}

void TestDocumentEpub::refusesTooManyEntries() {
    QTemporaryDir dir;
    QList<Entry> entries = lighthouseBook();
    for (int i = 0; i < 20; ++i)
        entries << Entry{QStringLiteral("OEBPS/images/%1.png").arg(i), "not really a png"};
    hip::doc::ReadOptions options;
    options.archive.maxEntries = 25;
    QCOMPARE(refusal(writeEpub(dir, entries), options),
             QStringLiteral("book.epub was refused: it has 28 entries, more than the 25 a book "
                            "needs"));
}

void TestDocumentEpub::refusesHugeEntries() {
    QTemporaryDir dir;
    QList<Entry> entries = lighthouseBook();
    entries << Entry{"OEBPS/big.xhtml", QByteArray(5'000'000, 'a')};
    hip::doc::ReadOptions options;
    options.archive.maxEntryBytes = 1'000'000;
    options.archive.maxCompressionRatio = 1e9; // this test is about size, not ratio
    QCOMPARE(refusal(writeEpub(dir, entries), options),
             QStringLiteral("book.epub was refused: entry \"OEBPS/big.xhtml\" would inflate to "
                            "5.0 MB (the limit is 1.0 MB)"));
}

void TestDocumentEpub::refusesZipBomb() {
    // 40 MB of zeros deflate to about 40 KB: the default limits refuse it before inflating.
    QTemporaryDir dir;
    QList<Entry> entries = lighthouseBook();
    entries << Entry{"OEBPS/bomb.xhtml", QByteArray(40'000'000, '\0')};
    const QString message = refusal(writeEpub(dir, entries));
    QVERIFY2(message.startsWith(QStringLiteral("book.epub was refused: entry \"OEBPS/bomb.xhtml\" "
                                               "inflates ")) &&
                 message.endsWith(QStringLiteral(" times (40.0 MB), like a zip bomb")),
             qPrintable(message));
}

void TestDocumentEpub::refusesTooMuchInTotal() {
    QTemporaryDir dir;
    QList<Entry> entries = lighthouseBook();
    for (int i = 0; i < 4; ++i)
        entries << Entry{QStringLiteral("OEBPS/font%1.otf").arg(i), QByteArray(300'000, 'f')};
    hip::doc::ReadOptions options;
    options.archive.maxTotalBytes = 1'000'000;
    options.archive.maxCompressionRatio = 1e9;
    QCOMPARE(refusal(writeEpub(dir, entries), options),
             QStringLiteral("book.epub was refused: its entries inflate to more than 1.0 MB"));
}

void TestDocumentEpub::refusesDrm() {
    QTemporaryDir dir;
    QList<Entry> entries = lighthouseBook();
    entries << Entry{"META-INF/encryption.xml",
                     "<encryption xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" "
                     "xmlns:enc=\"http://www.w3.org/2001/04/xmlenc#\"><enc:EncryptedData>"
                     "<enc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-"
                     "cbc\"/><enc:CipherData><enc:CipherReference URI=\"OEBPS/ch1.xhtml\"/>"
                     "</enc:CipherData></enc:EncryptedData></encryption>"};
    QCOMPARE(refusal(writeEpub(dir, entries)),
             QStringLiteral("book.epub is protected by DRM (its chapters are encrypted)"));
}

void TestDocumentEpub::reportsBrokenArchives() {
    QTemporaryDir dir;
    const QString notZip = dir.filePath(QStringLiteral("plain.epub"));
    QFile file(notZip);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("this is not a zip archive at all");
    file.close();
    QVERIFY2(
        refusal(notZip).startsWith(QStringLiteral("plain.epub is not a readable zip archive (")),
        qPrintable(refusal(notZip)));

    QList<Entry> noContainer = lighthouseBook();
    noContainer.removeAt(1);
    QCOMPARE(refusal(writeEpub(dir, noContainer)),
             QStringLiteral("book.epub is not a valid EPUB: META-INF/container.xml is missing"));
}

QTEST_GUILESS_MAIN(TestDocumentEpub)
#include "test_document_epub.moc"
