// The reading views at book scale: the mask heatmap, the locality plot and the heat strip gather
// what they draw by page and zoom into a range of pages; reading progress counts pages. The page
// map comes from a real PDF (QPdfWriter) read by the documents library and into the default model
// on the CPU; the thousand-page cases use a synthetic trace of the same shape as a real one.

#include "attention/locality_plot.h"
#include "attention/mask_grid.h"
#include "attention/mask_heatmap.h"
#include "bridge/attention_mask.h"
#include "common/zoom_range.h"
#include "document/document_ingest.h"
#include "document/document_reader.h"
#include "document/page_positions.h"
#include "document_view/heat_strip.h"
#include "main_window/reading_controller.h"
#include "synthetic_book_trace.h"
#include "test_ui_support.h"

#include <hip/engine.h>

#include <QApplication>

using namespace hip::ui;

namespace {

// Key tokens of `mask`'s row `row` that the grid's cells account for: each cell's share times
// its width. Equal to the selected keys in view when nothing is lost or counted twice.
double keysInCells(const MaskGrid& grid, int row, bool always) {
    double keys = 0;
    for (int c = 0; c < grid.columns(); ++c)
        keys += double(always ? grid.alwaysAt(row, c) : grid.selectedAt(row, c)) *
                double(grid.edges[size_t(c) + 1] - grid.edges[size_t(c)]);
    return keys;
}

int64_t selectedKeys(const AttentionMask& mask, size_t row, int64_t begin, int64_t end) {
    int64_t keys = 0;
    for (const hip::KeyRange& range : mask.ranges[row])
        keys += std::max<int64_t>(0, std::min(range.end, end) - std::max(range.begin, begin));
    return keys;
}

bool isPageBoundary(const AttentionMask& mask, int64_t position) {
    return position == mask.documentBegin || position == mask.documentEnd ||
           std::binary_search(mask.pageStarts.begin(), mask.pageStarts.end(), position);
}

// A paint of `widget` at its size, offscreen.
void paint(QWidget& widget) {
    QImage image(widget.size(), QImage::Format_ARGB32);
    widget.render(&image);
}

} // namespace

class TestUiBookViews : public QObject {
    Q_OBJECT

    QTemporaryDir folder_;
    hip::doc::DocumentText book_;
    std::optional<hip::doc::DocumentTokens> tokens_;
    QList<hip::doc::IngestEstimate> progress_;

    hip::KeyRange positionsOf(const QString& phrase) const {
        const size_t at = book_.text.find(phrase.toStdString());
        if (at == std::string::npos) qFatal("%s not in the test book", qPrintable(phrase));
        return tokens_->positionsOf({at, at + size_t(phrase.toUtf8().size())});
    }

    // A mask of the small book in which the one generated token selected `ranges`.
    AttentionMask smallMask(std::vector<hip::KeyRange> ranges) const {
        hip::AttentionTrace trace;
        const int64_t query = tokens_->contextTokens() + 10;
        trace.tokens.push_back({query, {std::move(ranges)}});
        MaskRequest request;
        request.contextTokens = query + 1;
        request.attention = *hip::AttentionConfig::preset("hip-3k");
        request.attention.sinkTokens = 4;
        request.attention.windowTokens = 8;
        request.documentBegin = tokens_->firstPosition();
        request.documentEnd = tokens_->endPosition();
        request.pageStarts = hip::doc::pageStartPositions(book_, *tokens_);
        for (int page = 0; page < int(book_.pages.size()); ++page)
            request.pageNames.push_back(book_.pageName(page));
        return layerMask(trace, std::move(request));
    }

private slots:
    void initTestCase() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        auto book = hip::doc::readDocument(uitest::writeBook(folder_));
        QVERIFY2(book, book.message().c_str());
        book_ = std::move(*book);
        QCOMPARE(book_.pages.size(), uitest::bookSections().size());
        hip::LoadOptions options;
        options.model = hiptest::defaultModelPath();
        options.contextTokens = 1024;
        auto engine = hip::Engine::load(options);
        QVERIFY2(engine, engine.message().c_str());
        auto session = (*engine)->newSession();
        auto tokens = hip::doc::ingestDocument(
            *session, book_, [&](const hip::doc::IngestEstimate& e) { progress_ << e; });
        QVERIFY2(tokens, tokens.message().c_str());
        tokens_ = std::move(*tokens);
    }

    void pagesStartAtTheirFirstToken() {
        const std::vector<int64_t> starts = hip::doc::pageStartPositions(book_, *tokens_);
        QCOMPARE(starts.size(), book_.pages.size());
        QCOMPARE(starts.front(), tokens_->firstPosition());
        for (size_t page = 0; page < starts.size(); ++page) {
            const int64_t end =
                page + 1 < starts.size() ? starts[page + 1] : tokens_->endPosition();
            QVERIFY(starts[page] < end); // every page of the test book has text
            QCOMPARE(book_.pageOf(tokens_->rangeAt(starts[page])), int(page));
            QCOMPARE(book_.pageOf(tokens_->rangeAt(end - 1)), int(page));
        }
        const hip::KeyRange cat = positionsOf(QStringLiteral("Marmalade"));
        QVERIFY(cat.begin >= starts[uitest::kCatPage] && cat.end <= starts[uitest::kCatPage + 1]);
    }

    void maskGathersByPage() {
        const hip::KeyRange cat = positionsOf(QStringLiteral("Marmalade"));
        const AttentionMask mask = smallMask({cat});
        QCOMPARE(mask.ranges.size(), size_t(1));
        // Two columns for six pages (header, four pages, conversation): three whole pages each.
        std::vector<int64_t> edges = maskColumns(mask, 0, mask.contextTokens, 2);
        QCOMPARE(edges, (std::vector<int64_t>{0, mask.pageStarts[2], mask.contextTokens}));
        MaskGrid grid = maskGrid(mask, edges, 100);
        QCOMPARE(grid.rows, 1);
        QCOMPARE(grid.selectedAt(0, 0), 0.0f);
        QVERIFY(grid.selectedAt(0, 1) > 0);
        QVERIFY(std::abs(keysInCells(grid, 0, false) - double(cat.end - cat.begin)) < 1e-4);
        QVERIFY(std::abs(keysInCells(grid, 0, true) - double(4 + 8)) < 1e-4); // sinks, window

        // Room for a column per page: one per page, the cat's page alone lit.
        edges = maskColumns(mask, 0, mask.contextTokens, 6 * kSplitPagePixels - 1);
        QCOMPARE(edges.size(), size_t(7));
        for (size_t e = 1; e + 1 < edges.size(); ++e)
            QVERIFY(isPageBoundary(mask, edges[e]));
        grid = maskGrid(mask, edges, 100);
        const int catColumn = 1 + uitest::kCatPage; // after the header
        QCOMPARE(grid.columnAt(cat.begin), catColumn);
        for (int c = 0; c < grid.columns(); ++c)
            QCOMPARE(grid.selectedAt(0, c) > 0, c == catColumn);
        QCOMPARE(grid.selectedAt(0, catColumn),
                 float(double(cat.end - cat.begin) / double(mask.pageStarts[uitest::kCatPage + 1] -
                                                            mask.pageStarts[uitest::kCatPage])));

        // Wide: pages are split, still at page boundaries, each column a few tokens.
        edges = maskColumns(mask, 0, mask.contextTokens, 4 * int(mask.contextTokens));
        QCOMPARE(int64_t(edges.size()) - 1, mask.contextTokens);
        edges = maskColumns(mask, 0, mask.contextTokens, 600);
        for (const int64_t start : mask.pageStarts)
            QVERIFY(std::binary_search(edges.begin(), edges.end(), start));
        grid = maskGrid(mask, edges, 100);
        QVERIFY(std::abs(keysInCells(grid, 0, false) - double(cat.end - cat.begin)) < 1e-4);
    }

    void thousandPagesGatherIntoPixels() {
        const booktrace::SyntheticBook book = booktrace::makeBook();
        const AttentionMask mask = layerMask(book.trace, book.request);
        QCOMPARE(mask.ranges.size(), size_t(booktrace::kGenerated));
        QCOMPARE(mask.pageStarts.size(), size_t(booktrace::kPages));
        // 1,002 pages (with the header and the conversation) in 460 columns: three a column.
        const std::vector<int64_t> edges = maskColumns(mask, 0, mask.contextTokens, 460);
        QCOMPARE(int(edges.size()) - 1, 334);
        for (size_t e = 1; e + 1 < edges.size(); ++e)
            QVERIFY(isPageBoundary(mask, edges[e]));
        const MaskGrid grid = maskGrid(mask, edges, 100);
        QCOMPARE(grid.rowsPerCell, 3);
        QCOMPARE(grid.rows, 86);
        // Every selected key is in the cells, once: per row of cells, the mean over its tokens.
        for (int row = 0; row < grid.rows; ++row) {
            double keys = 0;
            const int first = row * grid.rowsPerCell;
            const int last = std::min<int>(first + grid.rowsPerCell, booktrace::kGenerated);
            for (int token = first; token < last; ++token)
                keys += double(selectedKeys(mask, size_t(token), 0, mask.contextTokens));
            QVERIFY2(std::abs(keysInCells(grid, row, false) - keys / (last - first)) < 0.01,
                     qPrintable(QString::number(row)));
        }
    }

    void maskHeatmapZoomsIntoPagesAndBack() {
        const booktrace::SyntheticBook book = booktrace::makeBook();
        MaskHeatmap view;
        view.resize(560, 380);
        view.setMask(std::make_shared<const AttentionMask>(layerMask(book.trace, book.request)));
        paint(view);
        QVERIFY(view.isZoomable());
        QCOMPARE(view.pagesInView(), std::make_pair(0, booktrace::kPages - 1));
        QVERIFY(view.grid().columns() < booktrace::kPages); // pages gathered into pixels

        // Drag across the middle fifth of the plot: about pages 400-600, drawn page by page.
        QSignalSpy zoomed(&view, &ChartWidget::zoomChanged);
        const QRect plot = view.rect().adjusted(90, 30, -40, -80); // inside the plot
        const int y = plot.center().y();
        const int from = plot.left() + plot.width() * 2 / 5;
        const int to = plot.left() + plot.width() * 3 / 5;
        QTest::mousePress(&view, Qt::LeftButton, {}, QPoint(from, y));
        QTest::mouseMove(&view, QPoint(to, y));
        QTest::mouseRelease(&view, Qt::LeftButton, {}, QPoint(to, y));
        QCOMPARE(zoomed.count(), 1);
        QVERIFY(zoomed.last().at(0).toBool());
        paint(view);
        const auto [first, last] = view.pagesInView();
        QVERIFY2(first > 300 && last < 700 && last - first > 100,
                 qPrintable(QStringLiteral("%1-%2").arg(first).arg(last)));
        const MaskGrid& grid = view.grid();
        QCOMPARE(grid.edges.front(), int64_t(view.zoom().viewMin()));
        QVERIFY(view.accessibleSummary().contains(QStringLiteral("Showing page")));

        // The wheel zooms in further about the pointer, down to single pages split in columns.
        for (int notch = 0; notch < 24; ++notch) {
            QWheelEvent wheel(QPointF(plot.center()), view.mapToGlobal(QPointF(plot.center())), {},
                              QPoint(0, 120), Qt::NoButton, {}, Qt::NoScrollPhase, false);
            QApplication::sendEvent(&view, &wheel);
        }
        paint(view);
        const auto [near, far] = view.pagesInView();
        QVERIFY2(far - near <= 2, qPrintable(QStringLiteral("%1-%2").arg(near).arg(far)));
        QVERIFY(view.grid().columns() > 3 * (far - near + 1)); // pages split

        // A double click shows the whole context again.
        QTest::mouseDClick(&view, Qt::LeftButton, {}, plot.center());
        QVERIFY(!view.zoom().isZoomed());
        QVERIFY(!zoomed.last().at(0).toBool());
        paint(view);
        QCOMPARE(view.pagesInView(), std::make_pair(0, booktrace::kPages - 1));
        // Another layer of the same answer keeps the view; Escape resets it.
        view.zoomTo(1000, 5000);
        view.setMask(std::make_shared<const AttentionMask>(layerMask(book.trace, book.request)));
        QCOMPARE(view.zoom().viewMin(), 1000.0);
        QTest::keyClick(&view, Qt::Key_Escape);
        QVERIFY(!view.zoom().isZoomed());
    }

    void heatStripShowsAHotPageAmongAThousand() {
        const booktrace::SyntheticBook book = booktrace::makeBook();
        HeatStrip strip;
        strip.resize(16, 400);
        strip.setPageCount(booktrace::kPages);
        strip.setHeat(book.pageHeat, {});
        // 2.5 pages a pixel: the row holding page 500 shows it at full heat.
        const std::vector<float> rows = strip.rowHeat(400);
        QCOMPARE(rows[200], 1.0f);
        QCOMPARE(std::count(rows.begin(), rows.end(), 1.0f), 1);
        paint(strip);

        // Shift+drag over a tenth of the strip zooms onto those hundred pages...
        QTest::mousePress(&strip, Qt::LeftButton, Qt::ShiftModifier, QPoint(8, 180));
        QTest::mouseMove(&strip, QPoint(8, 220));
        QTest::mouseRelease(&strip, Qt::LeftButton, Qt::ShiftModifier, QPoint(8, 220));
        QCOMPARE(strip.pagesInView(), std::make_pair(450, 549));
        QVERIFY(
            strip.accessibleSummary().endsWith(QStringLiteral("Showing page 451 to page 550.")));
        // ...where page 500 is four pixel rows, and a click there goes to it.
        const std::vector<float> zoomedRows = strip.rowHeat(400);
        QCOMPARE(std::count(zoomedRows.begin(), zoomedRows.end(), 1.0f), 4);
        QSignalSpy requested(&strip, &HeatStrip::pageRequested);
        QTest::mouseClick(&strip, Qt::LeftButton, {}, QPoint(8, 201));
        QCOMPARE(requested.takeFirst().at(0).toInt(), 500);
        // Going to a page outside the view moves the view along.
        strip.setCurrentPage(800);
        QCOMPARE(strip.pagesInView(), std::make_pair(701, 800));
        QTest::keyClick(&strip, Qt::Key_Escape);
        QCOMPARE(strip.pagesInView(), std::make_pair(0, booktrace::kPages - 1));
    }

    void localityPlotMarksPagesAndZooms() {
        booktrace::SyntheticBook book = booktrace::makeBook();
        LocalityPlot plot;
        plot.resize(560, 380);
        plot.setTokensPerPage(600);
        plot.setReport(std::make_shared<const hip::eval::LocalityReport>(book.locality));
        QVERIFY(plot.isZoomable());
        QCOMPARE(plot.zoom().max(), std::log2(double(book.locality.distances.back())));
        QVERIFY(plot.accessibleSummary().endsWith(
            QStringLiteral("A page of the book is about 600 tokens.")));
        paint(plot);
        plot.zoomTo(4, 10);
        QCOMPARE(plot.zoom().viewMin(), 4.0);
        paint(plot);
        QTest::keyClick(&plot, Qt::Key_Plus);
        QCOMPARE(plot.zoom().viewSpan(), 3.0);
        QTest::keyClick(&plot, Qt::Key_0);
        QVERIFY(!plot.zoom().isZoomed());
    }

    void zoomRangeStaysInsideItsExtent() {
        ZoomRange zoom;
        zoom.setExtent(0, 1000, 8);
        zoom.zoomAt(100, 0.1); // about page 100: 100 pages, 100 still a tenth of the way in
        QCOMPARE(zoom.viewMin(), 90.0);
        QCOMPARE(zoom.viewMax(), 190.0);
        zoom.pan(-500);
        QCOMPARE(zoom.viewMin(), 0.0);
        zoom.show(999, 996); // narrower than the least span: widened, kept inside
        QCOMPARE(zoom.viewMin(), 992.0);
        QCOMPARE(zoom.viewMax(), 1000.0);
        zoom.zoomAt(996, 1000);
        QVERIFY(!zoom.isZoomed());
    }

    void readingProgressCountsPages() {
        QVERIFY(progress_.size() >= 2);
        const int pages = int(book_.pages.size());
        QCOMPARE(progress_.front().pagesRead, 0);
        for (qsizetype i = 1; i < progress_.size(); ++i)
            QVERIFY(progress_[i].pagesRead >= progress_[i - 1].pagesRead);
        const hip::doc::IngestEstimate& done = progress_.back();
        QCOMPARE(done.pages, pages);
        QCOMPARE(done.pagesRead, pages);
        QVERIFY2(QString::fromStdString(done.describe()).contains(QStringLiteral("4 / 4 pages")),
                 done.describe().c_str());
        const QString text = ReadingController::describe(book_.title, done);
        QVERIFY2(text.contains(QStringLiteral(" · 4 / 4 pages")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("tokens (100%)")));
        // Part way: whole pages only.
        hip::doc::IngestEstimate partWay = done;
        partWay.done = done.total / 2;
        partWay.pagesRead = 1;
        QVERIFY(ReadingController::describe(book_.title, partWay)
                    .contains(QStringLiteral("1 / 4 pages")));
    }
};

QTEST_MAIN(TestUiBookViews)
#include "test_ui_book_views.moc"
