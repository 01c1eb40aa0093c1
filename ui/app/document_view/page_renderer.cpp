#include "document_view/page_renderer.h"

#include "handoff/handoff.h"

#include <QtGlobal>

#include <cmath>

namespace hip::ui {
namespace {

int scaleKey(double pixelsPerPoint) {
    return int(std::lround(pixelsPerPoint * 1000));
}

qint64 cacheKey(int page, int scale) {
    return qint64(page) * 1'000'000 + scale;
}

// Mean luminance of a sparse grid of pixels: enough to tell a dark slide from paper.
bool mostlyDark(const QImage& image) {
    if (image.isNull()) return false;
    double sum = 0;
    int count = 0;
    for (int gy = 0; gy < 16; ++gy)
        for (int gx = 0; gx < 16; ++gx) {
            const QRgb p =
                image.pixel((image.width() - 1) * gx / 15, (image.height() - 1) * gy / 15);
            sum += 0.2126 * qRed(p) + 0.7152 * qGreen(p) + 0.0722 * qBlue(p);
            ++count;
        }
    return sum / count < 0.4 * 255;
}

} // namespace

PageRenderer::PageRenderer(int cacheMiB, QObject* parent)
    : QObject(parent), wantedScale_(std::make_shared<std::atomic<int>>(0)) {
    // Poppler serializes rendering behind one lock anyway; one thread keeps requests in order.
    pool_.setMaxThreadCount(1);
    cache_.setMaxCost(cacheMiB * 1024);
}

PageRenderer::~PageRenderer() {
    pool_.clear();
    pool_.waitForDone();
}

void PageRenderer::setSource(std::shared_ptr<const PageSource> source) {
    pool_.clear();
    ++generation_;
    pending_.clear();
    cache_.clear();
    source_ = std::move(source);
    dark_.assign(source_ ? size_t(source_->pageCount()) : 0, -1);
}

void PageRenderer::keepOnly(double pixelsPerPoint) {
    wantedScale_->store(scaleKey(pixelsPerPoint));
}

bool PageRenderer::isDark(int page) const {
    return page >= 0 && size_t(page) < dark_.size() && dark_[size_t(page)] == 1;
}

QImage PageRenderer::picture(int page, double pixelsPerPoint, QImage* fallback) {
    if (!source_ || page < 0 || page >= source_->pageCount()) return {};
    const Key key{page, scaleKey(pixelsPerPoint)};
    if (const QImage* cached = cache_.object(cacheKey(key.page, key.scale))) return *cached;
    if (fallback) {
        // Any cached scale of the page will do while the right one renders.
        for (const qint64 k : cache_.keys())
            if (k / 1'000'000 == page) {
                *fallback = *cache_.object(k);
                break;
            }
    }
    if (pending_.insert(key).second) {
        const quint64 generation = generation_;
        // The destructor waits for the pool, so `self` outlives every job; a result posted just
        // before destruction is dropped with the object's pending events.
        PageRenderer* self = this;
        pool_.start(
            handoff::Handed([self, source = source_, generation, key, wanted = wantedScale_] {
                QImage image;
                bool dark = false;
                const int want = wanted->load();
                if (want == 0 || want == key.scale) {
                    image = source->render(key.page, key.scale / 1000.0);
                    dark = mostlyDark(image);
                }
                handoff::queueCall(self, [self, generation, key, image, dark] {
                    self->finish(generation, key, image, dark);
                });
            }));
    }
    return {};
}

void PageRenderer::finish(quint64 generation, Key key, const QImage& image, bool dark) {
    if (generation != generation_) return;
    pending_.erase(key);
    if (image.isNull()) return;
    dark_[size_t(key.page)] = dark ? 1 : 0;
    cache_.insert(cacheKey(key.page, key.scale), new QImage(image),
                  std::max<qsizetype>(1, image.sizeInBytes() / 1024));
    emit rendered(key.page);
}

} // namespace hip::ui
