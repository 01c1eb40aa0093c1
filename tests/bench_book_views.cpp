// How long the reading views take to paint a thousand-page book (the synthetic trace of
// synthetic_book_trace.h), offscreen, at the attention panel's default size and at a large one.
// Not a test: it prints the first paint, then the median and slowest of many, for
// docs/PERFORMANCE.md; with a folder, it also saves the views (whole book and zoomed) as PNGs.
//
//   QT_QPA_PLATFORM=offscreen build/bin/bench_book_views [repeats] [folder]

#include "attention/locality_plot.h"
#include "attention/mask_heatmap.h"
#include "document/page_positions.h"
#include "document_view/heat_strip.h"
#include "synthetic_book_trace.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>

#include <algorithm>
#include <cstdio>
#include <functional>

using namespace hip::ui;

namespace {

// Runs `work` `repeats` times; prints the first, the median and the slowest in milliseconds.
void measure(const char* what, int repeats, const std::function<void(int)>& work) {
    std::vector<double> ms;
    double first = 0;
    for (int i = 0; i < repeats; ++i) {
        QElapsedTimer clock;
        clock.start();
        work(i);
        ms.push_back(double(clock.nsecsElapsed()) / 1e6);
        if (i == 0) first = ms.back();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-56s first %6.2f  median %6.2f  slowest %6.2f ms\n", what, first,
                ms[ms.size() / 2], ms.back());
}

void save(QWidget& widget, const QString& folder, const QString& name) {
    if (folder.isEmpty()) return;
    QImage image(widget.size() * 2, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(2);
    widget.render(&image);
    if (!image.save(folder + QLatin1Char('/') + name + QStringLiteral(".png")))
        std::fprintf(stderr, "could not save %s in %s\n", qPrintable(name), qPrintable(folder));
}

void paint(QWidget& widget, QImage& target) {
    widget.render(&target);
}

// The document map of the synthetic book: four bytes a token, the pages where the trace says.
struct SyntheticMap {
    hip::doc::DocumentText text;
    hip::doc::DocumentTokens tokens;
};

SyntheticMap syntheticMap(const MaskRequest& request) {
    SyntheticMap map;
    hip::IngestResult ingest;
    ingest.firstDocumentToken = request.documentBegin;
    const int64_t count = request.documentEnd - request.documentBegin;
    for (int64_t t = 0; t < count; ++t)
        ingest.documentTokens.push_back({uint64_t(t) * 4, uint64_t(t) * 4 + 4});
    ingest.contextTokens = request.documentEnd;
    map.tokens = hip::doc::DocumentTokens(std::move(ingest));
    map.text.text.assign(size_t(count) * 4, 'x');
    for (const int64_t start : request.pageStarts)
        map.text.pages.push_back({{}, {}, 0, 0, uint64_t(start - request.documentBegin) * 4, {}});
    return map;
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
    const QString folder = argc > 2 ? QString::fromLocal8Bit(argv[2]) : QString();
    const booktrace::SyntheticBook book = booktrace::makeBook();
    std::printf("synthetic book: %d pages, %lld tokens, %d generated tokens x %d layers, "
                "%lld selected keys per token and layer\n\n",
                booktrace::kPages, (long long)book.request.contextTokens, booktrace::kGenerated,
                booktrace::kLayers, (long long)(booktrace::kBlock * booktrace::kSelectedBlocks));

    // On the engine thread, once per mask asked for.
    const SyntheticMap map = syntheticMap(book.request);
    measure("page starts of 600K tokens (engine thread)", repeats,
            [&](int) { (void)hip::doc::pageStartPositions(map.text, map.tokens); });
    AttentionMaskPtr mask;
    measure("one layer's mask out of the trace (engine thread)", repeats, [&](int) {
        mask = std::make_shared<const AttentionMask>(layerMask(book.trace, book.request));
    });

    for (const QSize size : {QSize(560, 380), QSize(1600, 1000)}) {
        std::printf("\n%d x %d\n", size.width(), size.height());
        QImage target(size, QImage::Format_ARGB32_Premultiplied);
        MaskHeatmap heatmap;
        heatmap.resize(size);
        measure("mask: new mask, whole book (gather + draw)", repeats, [&](int) {
            heatmap.setMask(std::make_shared<const AttentionMask>(*mask));
            paint(heatmap, target);
        });
        measure("mask: repaint, view unchanged", repeats, [&](int) { paint(heatmap, target); });
        const double tokens = double(book.request.contextTokens);
        measure("mask: zoomed to a new range each paint (~1-100 pages)", repeats, [&](int i) {
            const double span = 600.0 * (1 + i % 100);
            const double from = std::fmod(i * 7919.0 * 37, tokens - span);
            heatmap.zoomTo(from, from + span);
            paint(heatmap, target);
        });
        const QString suffix = QStringLiteral("-%1").arg(size.width());
        heatmap.resetZoom();
        save(heatmap, folder, QStringLiteral("mask-book") + suffix);
        const double page = double(book.request.pageStarts[500]);
        heatmap.zoomTo(page - 3000, page + 3000);
        save(heatmap, folder, QStringLiteral("mask-pages") + suffix);

        LocalityPlot locality;
        locality.resize(size);
        locality.setTokensPerPage(600);
        locality.setReport(std::make_shared<const hip::eval::LocalityReport>(book.locality));
        measure("locality: 30 layers x 20 distances", repeats,
                [&](int) { paint(locality, target); });
        save(locality, folder, QStringLiteral("locality") + suffix);

        HeatStrip strip;
        strip.resize(16, size.height());
        strip.setPageCount(booktrace::kPages);
        strip.setHeat(book.pageHeat, {});
        QImage stripTarget(strip.size(), QImage::Format_ARGB32_Premultiplied);
        measure("heat strip: 1,000 pages", repeats, [&](int) { paint(strip, stripTarget); });
        measure("heat strip: zoomed to a new range each paint", repeats, [&](int i) {
            strip.zoomTo(i * 7 % 900, i * 7 % 900 + 10 + i % 90);
            paint(strip, stripTarget);
        });
        strip.zoomTo(450, 549);
        save(strip, folder, QStringLiteral("strip-zoomed") + suffix);
        strip.resetZoom();
        save(strip, folder, QStringLiteral("strip-book") + suffix);
    }
    return 0;
}
