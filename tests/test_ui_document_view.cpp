// The document side of the window without a model: opening a generated PDF off the GUI thread,
// its pages and character boxes, the view (scrolling to a passage, search hits, selection and
// copy, zoom), thumbnails, the heat strip, reflowable text pages, and a damaged PDF's message.

#include "common/resources.h"
#include "document/document_reader.h"
#include "document_view/document_view.h"
#include "document_view/find_bar.h"
#include "document_view/heat_strip.h"
#include "document_view/pdf_page_source.h"
#include "document_view/text_page_source.h"
#include "document_view/text_search.h"
#include "document_view/thumbnail_model.h"
#include "main_window/document_loader.h"
#include "test_ui_support.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QLineEdit>
#include <QScrollBar>

using namespace hip::ui;

class TestUiDocumentView : public QObject {
    Q_OBJECT

    QTemporaryDir folder_;
    QString book_;
    std::optional<OpenedDocument> opened_;

    // The byte range of the first occurrence of `phrase` in the opened book.
    hip::TextRange find(const QString& phrase) const {
        const auto hits = findAll(*opened_->text, phrase, Qt::CaseSensitive);
        if (hits.empty()) qFatal("%s not in the test book", qPrintable(phrase));
        return hits.front();
    }

private slots:
    void initTestCase() {
        initResources();
        book_ = uitest::writeBook(folder_);
        DocumentLoader loader(nullptr);
        QSignalSpy opened(&loader, &DocumentLoader::opened);
        loader.open(book_);
        QVERIFY(opened.wait(20000));
        opened_ = opened.takeFirst().at(0).value<OpenedDocument>();
    }

    void openedBookHasPagesTextAndKey() {
        const OpenedDocument& d = *opened_;
        QCOMPARE(d.text->format, QStringLiteral("PDF"));
        QCOMPARE(d.text->title, QStringLiteral("A Week in Wendle"));
        QCOMPARE(d.pages->pageCount(), int(uitest::bookSections().size()));
        QCOMPARE(d.key.size(), 64);
        const hip::TextRange cat = find(QStringLiteral("Marmalade"));
        QCOMPARE(d.text->pageAt(cat.begin), uitest::kCatPage);
        // The PDF's characters have boxes on the page, in the top half (the section's start).
        const auto boxes = d.pages->boxes(uitest::kCatPage, cat);
        QCOMPARE(boxes.size(), size_t(1));
        QVERIFY(boxes[0].isOnPage() && boxes[0].top < 0.5f && boxes[0].width() > 0.05f);
        const QImage page = d.pages->render(0, 1.0);
        QVERIFY(!page.isNull());
        QCOMPARE(page.width(), qRound(d.pages->pageSize(0).width()));
    }

    void damagedPdfSaysSo() {
        DocumentLoader loader(nullptr);
        QSignalSpy failed(&loader, &DocumentLoader::failed);
        loader.open(uitest::writeDamagedPdf(folder_));
        QVERIFY(failed.wait(20000));
        const QString message = failed.takeFirst().at(1).toString();
        QVERIFY2(!message.isEmpty(), "a damaged PDF must come with a message");
        QSignalSpy missing(&loader, &DocumentLoader::failed);
        loader.open(folder_.filePath(QStringLiteral("nowhere.pdf")));
        QVERIFY(missing.wait(20000));
    }

    void viewScrollsToAPassageAndHighlightsIt() {
        DocumentView view;
        view.resize(600, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setSource(opened_->pages);
        QCOMPARE(view.currentPage(), 0);
        const hip::TextRange cat = find(QStringLiteral("Marmalade"));
        QSignalSpy page(&view, &DocumentView::currentPageChanged);
        view.showPassage(uitest::kCatPage, cat);
        QCOMPARE(view.currentPage(), uitest::kCatPage);
        QCOMPARE(page.count(), 1);
        QVERIFY(view.passage().has_value());
        // The page is in view.
        const QRectF rect = view.pageRect(uitest::kCatPage);
        QVERIFY(rect.top() < view.viewport()->height() && rect.bottom() > 0);
        view.scrollToPage(0);
        QCOMPARE(view.currentPage(), 0);
    }

    void zoomKeepsThePageAndFitWidthFills() {
        DocumentView view;
        view.resize(700, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setSource(opened_->pages);
        QVERIFY(view.fitsWidth());
        const double fitted = view.pageRect(0).width();
        QVERIFY(fitted > 600 && fitted <= 700);
        view.scrollToPage(1);
        QSignalSpy zoom(&view, &DocumentView::zoomChanged);
        view.zoomOut();
        QVERIFY(!view.fitsWidth());
        QCOMPARE(view.currentPage(), 1);
        QVERIFY(view.pageRect(1).width() < fitted);
        view.setZoom(100);
        QCOMPARE(view.zoom(), DocumentView::kMaxZoom);
        view.setFitWidth(true);
        QCOMPARE(view.pageRect(0).width(), fitted);
        QCOMPARE(zoom.count(), 3);
    }

    void dragSelectsTextAndCopies() {
        DocumentView view;
        view.resize(600, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setSource(opened_->pages);
        const hip::TextRange harbour = find(QStringLiteral("The harbour of Wendle"));
        const auto boxes = opened_->pages->boxes(0, harbour);
        QVERIFY(!boxes.empty());
        const QRectF page = view.pageRect(0);
        auto at = [&](float x, float y) {
            return QPoint(int(page.left() + x * page.width()), int(page.top() + y * page.height()));
        };
        const QPoint from =
            at(boxes.front().left + 0.001f, (boxes.front().top + boxes.front().bottom) / 2);
        const QPoint to =
            at(boxes.front().right - 0.001f, (boxes.front().top + boxes.front().bottom) / 2);
        QSignalSpy selection(&view, &DocumentView::selectionChanged);
        QTest::mousePress(view.viewport(), Qt::LeftButton, {}, from);
        QMouseEvent move(QEvent::MouseMove, to, view.viewport()->mapToGlobal(to), Qt::NoButton,
                         Qt::LeftButton, {});
        QApplication::sendEvent(view.viewport(), &move);
        QTest::mouseRelease(view.viewport(), Qt::LeftButton, {}, to);
        QVERIFY(view.hasSelection());
        QCOMPARE(selection.count(), 1);
        QVERIFY2(view.selectedText().startsWith(QStringLiteral("The harbour")),
                 qPrintable(view.selectedText()));
        view.setFocus();
        QTest::keySequence(&view, QKeySequence::Copy);
        QCOMPARE(QApplication::clipboard()->text(), view.selectedText());
    }

    void findBarFindsAndSteps() {
        DocumentView view;
        FindBar bar;
        QObject::connect(&bar, &FindBar::hitsChanged, &view, &DocumentView::setSearchHits);
        QObject::connect(&bar, &FindBar::currentHitChanged, &view, &DocumentView::setCurrentHit);
        view.setSource(opened_->pages);
        bar.setDocument(opened_->text);
        bar.activate();
        QSignalSpy hits(&bar, &FindBar::hitsChanged);
        bar.field()->setText(QStringLiteral("marmalade"));
        QVERIFY(hits.wait(5000));
        QCOMPARE(bar.hitCount(), 3); // "named Marmalade. Marmalade sleeps ... named Marmalade"
        QCOMPARE(bar.currentHit(), 0);
        bar.findNext();
        bar.findNext();
        QCOMPARE(bar.currentHit(), 2);
        bar.findNext();
        QCOMPARE(bar.currentHit(), 0); // wraps around
        bar.findPrevious();
        QCOMPARE(bar.currentHit(), 2);
        QCOMPARE(view.currentPage(), uitest::kCatPage);
    }

    void thumbnailsPassTheTesterAndArriveRendered() {
        ThumbnailModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSource(opened_->pages);
        QCOMPARE(model.rowCount(), opened_->pages->pageCount());
        QCOMPARE(model.data(model.index(0)).toString(), QStringLiteral("1"));
        QSignalSpy rendered(&model, &QAbstractItemModel::dataChanged);
        const QImage blank = model.data(model.index(1), Qt::DecorationRole).value<QImage>();
        QCOMPARE(blank.width(), ThumbnailModel::kThumbnailWidth);
        QVERIFY(rendered.wait(10000));
        QCOMPARE(rendered.takeFirst().at(0).toModelIndex().row(), 1);
        model.setSource(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void heatStripDescribesTheHottestPages() {
        HeatStrip strip;
        QCOMPARE(strip.accessibleSummary(), QStringLiteral("No document is open."));
        strip.setPageCount(4);
        strip.setHeat({0.1f, 0.2f, 0.6f, 0.1f},
                      {QStringLiteral("page 1"), QStringLiteral("page 2"), QStringLiteral("page 3"),
                       QStringLiteral("page 4")});
        QVERIFY(strip.accessibleSummary().startsWith(
            QStringLiteral("Most attention on page 3 (60%), page 2 (20%)")));
        QSignalSpy requested(&strip, &HeatStrip::pageRequested);
        strip.resize(16, 400);
        QTest::mouseClick(&strip, Qt::LeftButton, {}, QPoint(8, 250));
        QCOMPARE(requested.takeFirst().at(0).toInt(), 2);
    }

    void textDocumentsGetTypesetPages() {
        const QString path = folder_.filePath(QStringLiteral("notes.txt"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        for (int i = 0; i < 200; ++i)
            file.write(
                QStringLiteral("Line %1 of the notes, with a few words on it.\n").arg(i).toUtf8());
        file.close();
        auto text = hip::doc::readDocument(path);
        QVERIFY2(text.isOk(), text.message().c_str());
        auto shared = std::make_shared<const hip::doc::DocumentText>(std::move(*text));
        TextPageSource pages(shared);
        QVERIFY(pages.pageCount() >= 2);
        const auto hits = findAll(*shared, QStringLiteral("Line 7 of"), Qt::CaseSensitive);
        QCOMPARE(hits.size(), size_t(1));
        const auto boxes = pages.boxes(0, hits[0]);
        QCOMPARE(boxes.size(), size_t(1));
        QVERIFY(boxes[0].isOnPage() && boxes[0].width() > 0.05f);
        const auto byte =
            pages.byteAt(0, QPointF(boxes[0].left + 0.001, (boxes[0].top + boxes[0].bottom) / 2));
        QCOMPARE(*byte, hits[0].begin);
        QVERIFY(!pages.render(0, 1.5).isNull());
    }
};

QTEST_MAIN(TestUiDocumentView)
#include "test_ui_document_view.moc"
