// PDF reading: PDFs written here with QPdfWriter (known sentences on known pages, one and two
// columns, running heads, page numbers, hyphenation) come back exactly, on the right pages, with
// boxes where the text was drawn; fixtures for page labels, the outline and encryption; damaged,
// text-less and cancelled reads give their messages. Also the layout analysis on its own.

#include "test_document_writer.h"
#include "test_support.h"

#include "document/document_reader.h"
#include "document/pdf_furniture.h"
#include "document/pdf_reading_order.h"

#include <QFile>
#include <QTemporaryDir>

using hip::doc::DocumentText;
using hip::doc::NormalizedRect;
using hip::doc::PageFurniture;
using hiptest::TestPdfWriter;

namespace {

// Body text geometry of the generated single-column pages, in points.
constexpr qreal kLeft = 72;
constexpr qreal kWidth = 451;
constexpr qreal kFirstBaseline = 110;
constexpr qreal kPitch = 15;
constexpr qreal kParagraphGap = 9;
constexpr qreal kIndent = 20;

const QString kRunningHead = QStringLiteral("A Study of Quiet Rivers");

// Pages of paragraphs; every paragraph is two or three sentences with ligatures (fi, ff, ffi, fl)
// that the font draws as one glyph and the reader must spell out again.
const QList<QStringList> kBookPages = {
    {QStringLiteral("The first survey of the river began in a small office above the ferry. "
                    "Its staff counted fish, measured the current and wrote everything down."),
     QStringLiteral("Efficient methods were rare in those days, so the officers walked the banks "
                    "twice a day. They carried heavy notebooks and a brass compass."),
     QStringLiteral("By autumn the notebooks filled a whole shelf of the office.")},
    {QStringLiteral("The second season brought floods that nobody had expected. Water reached the "
                    "door of the office and ruined the lower shelf."),
     QStringLiteral("The staff moved the surviving notebooks to the attic. A few pages were "
                    "copied again from memory, which later caused some confusion."),
     QStringLiteral("Fluffy clouds over the hills were the only good news of that spring.")},
    {QStringLiteral("In the third year the survey finally produced its map. It showed every bend "
                    "of the river and the depth of every pool."),
     QStringLiteral("The map still hangs in the town hall, where visitors admire its careful "
                    "lettering and its faded blue ink.")}};

QString paragraphsText(const QList<QStringList>& pages) {
    QStringList paragraphs;
    for (const QStringList& page : pages)
        paragraphs << page;
    return paragraphs.join(QStringLiteral("\n\n"));
}

QStringList sentences(const QString& paragraph) {
    QStringList result;
    for (QString s : paragraph.split(QStringLiteral(". "))) {
        if (!s.endsWith(QLatin1Char('.'))) s += QLatin1Char('.');
        result << s;
    }
    return result;
}

// Draws paragraphs as a book does: justified lines, the first indented, the last ragged, a gap
// between paragraphs.
void drawParagraphs(TestPdfWriter& pdf, const QStringList& paragraphs, qreal left, qreal width,
                    qreal& baseline, qreal pitch = kPitch) {
    for (const QString& paragraph : paragraphs) {
        const QStringList lines = pdf.wrap(paragraph, width, kIndent);
        for (qsizetype i = 0; i < lines.size(); ++i) {
            const qreal indent = i == 0 ? kIndent : 0;
            if (i + 1 < lines.size())
                pdf.justified(left + indent, baseline, lines[i], width - indent);
            else
                pdf.text(left + indent, baseline, lines[i]);
            baseline += pitch;
        }
        baseline += kParagraphGap;
    }
}

QString writeBook(const QTemporaryDir& dir) {
    const QString path = dir.filePath(QStringLiteral("book.pdf"));
    TestPdfWriter pdf(path);
    for (qsizetype p = 0; p < kBookPages.size(); ++p) {
        if (p > 0) pdf.newPage();
        pdf.text((TestPdfWriter::kPageWidth - pdf.width(kRunningHead)) / 2, 50, kRunningHead);
        qreal baseline = kFirstBaseline;
        drawParagraphs(pdf, kBookPages[p], kLeft, kWidth, baseline);
        const QString number = QString::number(p + 1);
        pdf.text((TestPdfWriter::kPageWidth - pdf.width(number)) / 2, 800, number);
    }
    if (!pdf.finish()) qFatal("cannot write %s", qPrintable(path));
    return path;
}

DocumentText readOrFail(const QString& path, const hip::doc::ReadOptions& options = {}) {
    auto document = hip::doc::readDocument(path, options);
    if (!document) qFatal("reading %s failed: %s", qPrintable(path), document.message().c_str());
    return std::move(*document);
}

hip::TextRange find(const DocumentText& document, const QString& text) {
    const std::string needle = text.toStdString();
    const size_t at = document.text.find(needle);
    if (at == std::string::npos) return {};
    return {at, at + needle.size()};
}

// Every character with a box has it on its page, inside the page.
void verifyGlyphs(const DocumentText& document) {
    for (const hip::doc::Glyph& glyph : document.glyphs) {
        QVERIFY(!glyph.box.isNull());
        QVERIFY2(glyph.box.isOnPage(),
                 qPrintable(QStringLiteral("glyph at byte %1 off its page").arg(glyph.byte)));
    }
}

std::vector<NormalizedRect> lineBoxes(const std::vector<std::pair<float, float>>& xSpans, float top,
                                      float step) {
    std::vector<NormalizedRect> boxes;
    for (size_t i = 0; i < xSpans.size(); ++i)
        boxes.push_back({xSpans[i].first, top + step * float(i), xSpans[i].second,
                         top + step * float(i) + 0.012f});
    return boxes;
}

hip::doc::LayoutLine layoutLine(const QString& text, float top) {
    hip::doc::LayoutLine line;
    hip::doc::LayoutWord word;
    word.text = text;
    const NormalizedRect box{0.3f, top, 0.7f, top + 0.015f};
    for (qsizetype i = 0; i < text.size(); ++i)
        word.charBoxes.push_back(box);
    line.words.push_back(word);
    line.box = box;
    return line;
}

} // namespace

class TestDocumentPdf : public QObject {
    Q_OBJECT
private slots:
    void singleColumnComesBackExactly();
    void twoColumnsReadColumnByColumn();
    void hyphenatedWordsAreRejoined();
    void raggedRightParagraphsWithoutGaps();
    void pageLabelsAndOutline();
    void encryptedPdfAsksForPassword();
    void wrongPasswordIsReported();
    void truncatedPdfIsDamaged();
    void damagedPageIsNamed();
    void otherFileIsNotAPdf();
    void pagesWithoutTextAreNamed();
    void scannedPdfHasNoText();
    void progressAndCancelBetweenPages();
    void readingOrderFollowsColumns();
    void chapterOpeningsAreNotRunningHeads();
};

void TestDocumentPdf::singleColumnComesBackExactly() {
    QTemporaryDir dir;
    const DocumentText document = readOrFail(writeBook(dir));
    QCOMPARE(QString::fromStdString(document.text), paragraphsText(kBookPages));
    QCOMPARE(document.format, QStringLiteral("PDF"));
    QCOMPARE(document.title, QStringLiteral("Test Document"));
    QCOMPARE(document.pages.size(), size_t(3));
    QVERIFY(document.warnings.isEmpty());
    verifyGlyphs(document);

    for (qsizetype p = 0; p < kBookPages.size(); ++p) {
        const hip::doc::DocumentPage& page = document.pages[size_t(p)];
        QCOMPARE(page.label, QString::number(p + 1));
        QCOMPARE(qRound(page.widthPoints), 595);
        QCOMPARE(qRound(page.heightPoints), 842);
        // The running head and the page number are kept with the page, out of the text.
        QCOMPARE(page.furniture.size(), size_t(2));
        QCOMPARE(page.furniture[0].kind, PageFurniture::Kind::RunningHeader);
        QCOMPARE(page.furniture[0].text, kRunningHead);
        QVERIFY(page.furniture[0].box.bottom < 0.07f);
        QCOMPARE(page.furniture[1].kind, PageFurniture::Kind::PageNumber);
        QCOMPARE(page.furniture[1].text, QString::number(p + 1));
        QVERIFY(page.furniture[1].box.top > 0.93f);

        for (const QString& paragraph : kBookPages[p]) {
            for (const QString& sentence : sentences(paragraph)) {
                const hip::TextRange range = find(document, sentence);
                QVERIFY2(range.end > range.begin, qPrintable(sentence));
                QCOMPARE(document.pageAt(range.begin), int(p));
                const auto areas = document.areasOf(range);
                QCOMPARE(areas.size(), size_t(1));
                QCOMPARE(areas[0].page, int(p));
                for (const NormalizedRect& box : areas[0].boxes) {
                    QVERIFY(box.left >= float((kLeft - 1) / 595) &&
                            box.right <= float((kLeft + kWidth + 1) / 595));
                    QVERIFY(box.top > float(90 / 842.0) && box.bottom < float(780 / 842.0));
                }
            }
        }
        // The first paragraph of the page starts on its first line, after the indent.
        const auto first = document.areasOf(find(document, kBookPages[p][0].left(20)));
        QCOMPARE(first.size(), size_t(1));
        QVERIFY(qAbs(first[0].boxes[0].left - float((kLeft + kIndent) / 595)) < 0.005f);
        QVERIFY(qAbs(first[0].boxes[0].bottom - float(kFirstBaseline / 842)) < 0.01f);
    }
}

void TestDocumentPdf::twoColumnsReadColumnByColumn() {
    // Two columns whose paragraphs start at the same heights (Poppler alone reads such pages
    // row by row); the third paragraph runs on from the foot of the left column to the top of
    // the right one.
    const QList<QStringList> columns = {
        {QStringLiteral("Herons nest in the tall alders. They return every March."),
         QStringLiteral("The young birds leave the nest in June. Few survive the first winter."),
         QStringLiteral(
             "It is a fact that in each of the old logs by the weir an owl or a bat or a "
             "rat can be seen at dusk if one is quiet and still and in no hurry at all "
             "to go back up to the town.")},
        {QStringLiteral("Eels travel the other way, down to the sea. Nobody has seen them spawn."),
         QStringLiteral("Otters came back in the last decade. Their tracks mark the sandbanks.")}};
    const qreal gutterLeft = 286, rightColumn = 309, columnWidth = 230, pitch = 13;
    const qreal slot = 5 * pitch + 14; // every paragraph starts at the top of a slot

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("journal.pdf"));
    QStringList expected;
    {
        TestPdfWriter pdf(path, 10);
        for (int page = 0; page < 2; ++page) {
            if (page > 0) pdf.newPage();
            const QString head = QStringLiteral("Journal of Careful Tests %1").arg(page + 1);
            pdf.text((TestPdfWriter::kPageWidth - pdf.width(head)) / 2, 50, head);
            // Left column: two paragraphs, then the start of the third.
            for (int k = 0; k < 3; ++k) {
                const QStringList lines = pdf.wrap(columns[0][k], columnWidth, kIndent);
                QVERIFY(lines.size() <= 5);
                const qsizetype shown = k < 2 ? lines.size() : 3;
                for (qsizetype i = 0; i < shown; ++i) {
                    const qreal indent = i == 0 ? kIndent : 0;
                    const qreal y = 110 + k * slot + qreal(i) * pitch;
                    if (i + 1 < lines.size())
                        pdf.justified(56 + indent, y, lines[i], columnWidth - indent);
                    else
                        pdf.text(56 + indent, y, lines[i]);
                }
                // Right column: the rest of the third paragraph, then two more.
                if (k == 2)
                    for (qsizetype i = shown; i < lines.size(); ++i) {
                        const qreal y = 110 + qreal(i - shown) * pitch;
                        if (i + 1 < lines.size())
                            pdf.justified(rightColumn, y, lines[i], columnWidth);
                        else
                            pdf.text(rightColumn, y, lines[i]);
                    }
            }
            for (int k = 0; k < 2; ++k) {
                const QStringList lines = pdf.wrap(columns[1][k], columnWidth, kIndent);
                for (qsizetype i = 0; i < lines.size(); ++i) {
                    const qreal indent = i == 0 ? kIndent : 0;
                    const qreal y = 110 + (k + 1) * slot + qreal(i) * pitch;
                    if (i + 1 < lines.size())
                        pdf.justified(rightColumn + indent, y, lines[i], columnWidth - indent);
                    else
                        pdf.text(rightColumn + indent, y, lines[i]);
                }
            }
            const QString foot = QStringLiteral("Page %1 of 2").arg(page + 1);
            pdf.text((TestPdfWriter::kPageWidth - pdf.width(foot)) / 2, 805, foot);
            expected << columns[0] << columns[1];
        }
        QVERIFY(pdf.finish());
    }
    QVERIFY(gutterLeft < rightColumn);

    const DocumentText document = readOrFail(path);
    QCOMPARE(QString::fromStdString(document.text), expected.join(QStringLiteral("\n\n")));
    verifyGlyphs(document);
    for (int page = 0; page < 2; ++page) {
        const auto& furniture = document.pages[size_t(page)].furniture;
        QCOMPARE(furniture.size(), size_t(2));
        QCOMPARE(furniture[0].kind, PageFurniture::Kind::RunningHeader);
        QCOMPARE(furniture[0].text, QStringLiteral("Journal of Careful Tests %1").arg(page + 1));
        QCOMPARE(furniture[1].kind, PageFurniture::Kind::PageNumber);
    }
    // The paragraph that changes columns has boxes in both.
    const auto areas = document.areasOf(find(document, columns[0][2]));
    QCOMPARE(areas.size(), size_t(1));
    bool inLeft = false, inRight = false;
    for (const NormalizedRect& box : areas[0].boxes) {
        inLeft |= box.right < float(gutterLeft / 595 + 0.001);
        inRight |= box.left > float(rightColumn / 595 - 0.001);
    }
    QVERIFY(inLeft && inRight);
}

void TestDocumentPdf::hyphenatedWordsAreRejoined() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("hyphens.pdf"));
    {
        TestPdfWriter pdf(path);
        const QStringList first = {
            QStringLiteral("The committee met at noon to discuss an extra-"),
            QStringLiteral("ordinary proposal: the river would be re-routed"),
            QStringLiteral("through the old valley of the ancient Anglo-"),
            QStringLiteral("Saxon kings, a well-known place.")};
        const QStringList second = {
            QStringLiteral("Nobody in the crowded hall spoke against the plan\u2014"),
            QStringLiteral("which surprised the mayor\u2014and the vote that followed"),
            QStringLiteral("was unanimous. The engineers then began their conti-")};
        // Justified to the longest line, so no line is stretched far beyond its natural width.
        qreal width = 0;
        for (const QString& line : first + second)
            width = std::max(width, pdf.width(line) + 2);
        qreal y = kFirstBaseline;
        for (qsizetype i = 0; i < first.size(); ++i, y += kPitch) {
            const qreal indent = i == 0 ? kIndent : 0;
            if (i + 1 < first.size())
                pdf.justified(kLeft + indent, y, first[i], width - indent);
            else
                pdf.text(kLeft, y, first[i]);
        }
        y += kParagraphGap;
        for (qsizetype i = 0; i < second.size(); ++i, y += kPitch) {
            const qreal indent = i == 0 ? kIndent : 0;
            pdf.justified(kLeft + indent, y, second[i], width - indent);
        }
        // The word goes on at the top of the next page.
        pdf.newPage();
        pdf.text(kLeft, kFirstBaseline, QStringLiteral("nuous survey the following morning."));
        pdf.text(kLeft + kIndent, kFirstBaseline + kPitch + kParagraphGap,
                 QStringLiteral("A short closing paragraph ends the report."));
        QVERIFY(pdf.finish());
    }
    const DocumentText document = readOrFail(path);
    const QString expected = QStringLiteral(
        "The committee met at noon to discuss an extraordinary proposal: the river would be "
        "re-routed through the old valley of the ancient Anglo-Saxon kings, a well-known place."
        "\n\nNobody in the crowded hall spoke against the plan\u2014which surprised the "
        "mayor\u2014and the vote that followed was unanimous. The engineers then began their "
        "continuous survey the following morning."
        "\n\nA short closing paragraph ends the report.");
    QCOMPARE(QString::fromStdString(document.text), expected);
    // The re-joined word straddles the pages: its letters keep their own pages.
    const hip::TextRange word = find(document, QStringLiteral("continuous"));
    QCOMPARE(document.pageAt(word.begin), 0);
    const auto areas = document.areasOf(word);
    QCOMPARE(areas.size(), size_t(2));
    QCOMPARE(areas[0].page, 0);
    QCOMPARE(areas[1].page, 1);
    QCOMPARE(document.pageAt(find(document, QStringLiteral("survey")).begin), 1);
}

void TestDocumentPdf::raggedRightParagraphsWithoutGaps() {
    // Left-aligned text whose lines differ in length by whole words, with paragraphs neither
    // indented nor spaced: only a line that ends before the next word would have had to wrap
    // ends its paragraph.
    const QStringList paragraphs = {
        QStringLiteral("Lock keepers kept a diary of every boat that passed through the gates, "
                       "with the name of the skipper, the cargo and the toll that was paid."),
        QStringLiteral("Coal went north and grain went south for most of the year."),
        QStringLiteral("In hard winters the canal froze and nothing moved for weeks, so the "
                       "keepers mended the gates and painted the beams.")};
    const qreal width = 300;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("ragged.pdf"));
    {
        TestPdfWriter pdf(path);
        qreal y = kFirstBaseline;
        for (qsizetype p = 0; p < paragraphs.size(); ++p) {
            const QStringList lines = pdf.wrap(paragraphs[p], width);
            // The data must show the rule: the next paragraph's first word would have fit.
            if (p + 1 < paragraphs.size())
                QVERIFY(pdf.width(lines.back() + QLatin1Char(' ') +
                                  paragraphs[p + 1].section(QLatin1Char(' '), 0, 0)) < width - 15);
            for (const QString& line : lines) {
                pdf.text(kLeft, y, line);
                y += kPitch;
            }
        }
        QVERIFY(pdf.finish());
    }
    const DocumentText document = readOrFail(path);
    QCOMPARE(QString::fromStdString(document.text), paragraphs.join(QStringLiteral("\n\n")));
}

void TestDocumentPdf::pageLabelsAndOutline() {
    const QString path =
        QString::fromStdString((hiptest::dataDir() / "document_labels_outline.pdf").string());
    const DocumentText document = readOrFail(path);
    QCOMPARE(document.title, QStringLiteral("Rivers at Dawn"));
    QCOMPARE(QString::fromStdString(document.text),
             QStringLiteral("The preface explains why rivers were measured at dawn.\n\n"
                            "The acknowledgements thank the ferrymen of the northern bank.\n\n"
                            "Chapter one counts the herons that nest above the weir.\n\n"
                            "Chapter two follows the eels downstream to the estuary."));
    QStringList labels;
    for (const auto& page : document.pages)
        labels << page.label;
    QCOMPARE(labels, QStringList({"i", "ii", "1", "2"}));
    QCOMPARE(document.pageName(1), QStringLiteral("page ii (2)"));
    QCOMPARE(document.pageName(2), QStringLiteral("page 1 (3)"));
    QCOMPARE(document.pageAt(find(document, QStringLiteral("eels")).begin), 3);

    QCOMPARE(document.outline.size(), size_t(5));
    const QStringList titles = {"Front matter", "Preface", "Acknowledgements", "Chapter One",
                                "Chapter Two"};
    const int levels[] = {0, 1, 1, 0, 0};
    const int pages[] = {0, 0, 1, 2, 3};
    for (size_t i = 0; i < document.outline.size(); ++i) {
        QCOMPARE(document.outline[i].title, titles[qsizetype(i)]);
        QCOMPARE(document.outline[i].level, levels[i]);
        QCOMPARE(document.outline[i].page, pages[i]);
        QVERIFY(document.outline[i].top >= 0 && document.outline[i].top < 0.2);
    }
}

void TestDocumentPdf::encryptedPdfAsksForPassword() {
    const QString path =
        QString::fromStdString((hiptest::dataDir() / "document_encrypted.pdf").string());
    // Without a way to ask, the message says a password is needed.
    auto refused = hip::doc::readDocument(path);
    QVERIFY(!refused);
    QVERIFY2(refused.message().find("password") != std::string::npos, refused.message().c_str());

    // A wrong answer is followed by a second question, which says the first was wrong.
    QList<hip::doc::PasswordRequest> requests;
    hip::doc::ReadOptions options;
    options.password = [&](const hip::doc::PasswordRequest& request) -> std::optional<QString> {
        requests << request;
        return request.attempt == 1 ? QStringLiteral("guess") : QStringLiteral("open sesame");
    };
    const DocumentText document = readOrFail(path, options);
    QCOMPARE(requests.size(), 2);
    QCOMPARE(requests[0].fileName, QStringLiteral("document_encrypted.pdf"));
    QVERIFY(!requests[0].previousWasWrong);
    QVERIFY(requests[1].previousWasWrong);
    QCOMPARE(requests[1].attempt, 2);
    QVERIFY(QString::fromStdString(document.text)
                .startsWith(QStringLiteral("The preface explains why rivers")));
    QCOMPARE(document.pages.size(), size_t(4));
}

void TestDocumentPdf::wrongPasswordIsReported() {
    const QString path =
        QString::fromStdString((hiptest::dataDir() / "document_encrypted.pdf").string());
    hip::doc::ReadOptions options;
    options.password = [](const hip::doc::PasswordRequest& request) -> std::optional<QString> {
        if (request.previousWasWrong) return std::nullopt; // the user gives up
        return QStringLiteral("wrong");
    };
    auto result = hip::doc::readDocument(path, options);
    QVERIFY(!result);
    QCOMPARE(QString::fromStdString(result.message()),
             QStringLiteral("the password for document_encrypted.pdf is wrong"));

    int asked = 0;
    options.password = [&](const hip::doc::PasswordRequest&) -> std::optional<QString> {
        ++asked;
        return QStringLiteral("always wrong");
    };
    result = hip::doc::readDocument(path, options);
    QVERIFY(!result);
    QCOMPARE(asked, 10); // a prompt that never gives up cannot loop forever
}

void TestDocumentPdf::truncatedPdfIsDamaged() {
    QTemporaryDir dir;
    const QString whole = writeBook(dir);
    QFile file(whole);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    const QString path = dir.filePath(QStringLiteral("truncated.pdf"));
    QFile cut(path);
    QVERIFY(cut.open(QIODevice::WriteOnly));
    cut.write(bytes.left(bytes.size() * 6 / 10));
    cut.close();

    const auto result = hip::doc::readDocument(path);
    QVERIFY(!result);
    QCOMPARE(result.status().code(), hip::ErrorCode::InvalidFile);
    const QString message = QString::fromStdString(result.message());
    QVERIFY2(message.startsWith(QStringLiteral("truncated.pdf is damaged or not a PDF (Poppler:")),
             qPrintable(message));
}

void TestDocumentPdf::damagedPageIsNamed() {
    // The fixture with page 2 drawn in a font the page does not have: its text is lost.
    QFile fixture(
        QString::fromStdString((hiptest::dataDir() / "document_labels_outline.pdf").string()));
    QVERIFY(fixture.open(QIODevice::ReadOnly));
    QByteArray bytes = fixture.readAll();
    const QByteArray page2 = "/F1 11 Tf 72.00 742.00 Td (The acknowledgements";
    QVERIFY(bytes.contains(page2));
    bytes.replace(page2, QByteArray(page2).replace("/F1", "/F9"));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("fonts.pdf"));
    QFile damaged(path);
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write(bytes);
    damaged.close();

    const DocumentText document = readOrFail(path);
    QCOMPARE(document.pages.size(), size_t(4));
    QVERIFY(document.text.find("acknowledgements") == std::string::npos);
    QVERIFY(document.text.find("herons") != std::string::npos);
    QCOMPARE(document.warnings,
             QStringList(QStringLiteral("page 2 is damaged, its text may be incomplete (Poppler: "
                                        "Error: Unknown font tag 'F9'; Error: No font in show)")));
}

void TestDocumentPdf::otherFileIsNotAPdf() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("notes.pdf"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("these are notes, not a PDF\n");
    file.close();
    const auto result = hip::doc::readDocument(path);
    QVERIFY(!result);
    QVERIFY2(result.message().find("notes.pdf is damaged or not a PDF") == 0,
             result.message().c_str());

    const auto missing = hip::doc::readDocument(dir.filePath(QStringLiteral("absent.pdf")));
    QCOMPARE(missing.status().code(), hip::ErrorCode::NotFound);
    QVERIFY2(missing.message().find("no such file") != std::string::npos,
             missing.message().c_str());
}

void TestDocumentPdf::pagesWithoutTextAreNamed() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("mixed.pdf"));
    {
        TestPdfWriter pdf(path);
        pdf.text(kLeft, kFirstBaseline, QStringLiteral("The first page has words."));
        pdf.newPage();
        pdf.image(QRectF(72, 72, 451, 650)); // a scanned page: a picture, no text
        pdf.newPage();
        pdf.text(kLeft, kFirstBaseline, QStringLiteral("The third page has words too."));
        QVERIFY(pdf.finish());
    }
    const DocumentText document = readOrFail(path);
    QCOMPARE(QString::fromStdString(document.text),
             QStringLiteral("The first page has words.\n\nThe third page has words too."));
    QCOMPARE(document.pages.size(), size_t(3));
    QCOMPARE(document.pageRange(1).begin, document.pageRange(1).end); // in the map, but empty
    QCOMPARE(document.warnings,
             QStringList(QStringLiteral("page 2 has no text (a scanned image?) and is not part of "
                                        "what the model reads")));
}

void TestDocumentPdf::scannedPdfHasNoText() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("scan.pdf"));
    {
        TestPdfWriter pdf(path);
        pdf.image(QRectF(72, 72, 451, 650));
        pdf.newPage();
        pdf.image(QRectF(72, 72, 451, 650));
        QVERIFY(pdf.finish());
    }
    const auto result = hip::doc::readDocument(path);
    QVERIFY(!result);
    QCOMPARE(result.status().code(), hip::ErrorCode::Unsupported);
    QVERIFY2(result.message().find("scan.pdf has no text layer") == 0, result.message().c_str());
    QVERIFY(result.message().find("OCR") != std::string::npos);
}

void TestDocumentPdf::progressAndCancelBetweenPages() {
    QTemporaryDir dir;
    const QString path = writeBook(dir);
    hip::doc::ReadOptions options;
    QList<int64_t> done;
    options.progress = [&](const hip::Progress& p) {
        QCOMPARE(p.stage, std::string("extracting text"));
        QCOMPARE(p.total, int64_t(3));
        done << p.done;
    };
    readOrFail(path, options);
    QCOMPARE(done, QList<int64_t>({1, 2, 3}));

    done.clear();
    options.progress = [&](const hip::Progress& p) {
        done << p.done;
        options.cancel.cancel(); // after the first page
    };
    const auto cancelled = hip::doc::readDocument(path, options);
    QVERIFY(!cancelled);
    QCOMPARE(cancelled.status().code(), hip::ErrorCode::Cancelled);
    QCOMPARE(QString::fromStdString(cancelled.message()),
             QStringLiteral("reading book.pdf was cancelled"));
    QCOMPARE(done, QList<int64_t>({1}));
}

void TestDocumentPdf::readingOrderFollowsColumns() {
    // A spanning title, two columns of four lines with a caption spanning both in the middle,
    // and a spanning footnote.
    std::vector<NormalizedRect> boxes;
    boxes.push_back({0.1f, 0.05f, 0.9f, 0.07f});                          // 0: title
    auto left = lineBoxes({{0.1f, 0.45f}, {0.1f, 0.45f}}, 0.10f, 0.03f);  // 1, 2
    auto right = lineBoxes({{0.55f, 0.9f}, {0.55f, 0.9f}}, 0.10f, 0.03f); // 3, 4
    boxes.insert(boxes.end(), right.begin(), right.end());
    boxes.insert(boxes.end(), left.begin(), left.end());
    boxes.push_back({0.2f, 0.20f, 0.8f, 0.22f}); // 5: caption across the gutter
    auto left2 = lineBoxes({{0.1f, 0.45f}, {0.1f, 0.4f}}, 0.25f, 0.03f);   // 6, 7
    auto right2 = lineBoxes({{0.55f, 0.9f}, {0.55f, 0.7f}}, 0.25f, 0.03f); // 8, 9
    boxes.insert(boxes.end(), left2.begin(), left2.end());
    boxes.insert(boxes.end(), right2.begin(), right2.end());
    boxes.push_back({0.1f, 0.9f, 0.9f, 0.92f}); // 10: footnote
    const std::vector<int> expected = {0, 3, 4, 1, 2, 5, 6, 7, 8, 9, 10};
    // Boxes 1-2 are the right column and 3-4 the left one (inserted in that order above).
    QCOMPARE(hip::doc::readingOrder(boxes), expected);

    // One column stays top to bottom, whatever order the lines came in.
    const auto column = lineBoxes({{0.1f, 0.9f}, {0.15f, 0.9f}, {0.1f, 0.6f}}, 0.1f, 0.02f);
    const std::vector<NormalizedRect> shuffled = {column[2], column[0], column[1]};
    QCOMPARE(hip::doc::readingOrder(shuffled), std::vector<int>({1, 2, 0}));
}

void TestDocumentPdf::chapterOpeningsAreNotRunningHeads() {
    std::vector<hip::doc::PageLayout> pages(9);
    QStringList labels;
    for (int p = 0; p < 9; ++p) {
        labels << QString::number(p + 1);
        pages[size_t(p)].lines.push_back(layoutLine(QStringLiteral("Rivers of the North"), 0.04f));
        if (p % 3 == 0)
            pages[size_t(p)].lines.push_back(
                layoutLine(QStringLiteral("Chapter %1").arg(p / 3 + 1), 0.09f));
        pages[size_t(p)].lines.push_back(layoutLine(QStringLiteral("Body text."), 0.5f));
        pages[size_t(p)].lines.push_back(layoutLine(QString::number(p + 1), 0.95f));
    }
    const hip::doc::FurnitureMarks marks = hip::doc::detectFurniture(pages, labels);
    for (int p = 0; p < 9; ++p) {
        const auto& page = marks[size_t(p)];
        QCOMPARE(page.front(), std::optional(PageFurniture::Kind::RunningHeader));
        if (p % 3 == 0) QCOMPARE(page[1], std::nullopt); // "Chapter N" is body text
        QCOMPARE(page[page.size() - 2], std::nullopt);
        QCOMPARE(page.back(), std::optional(PageFurniture::Kind::PageNumber));
    }
}

QTEST_MAIN(TestDocumentPdf)
#include "test_document_pdf.moc"
