#pragma once
// Renders page pictures off the GUI thread and keeps the recent ones. A view asks for a page at a
// pixel scale; it gets the cached picture at once, or null and later a `rendered` signal. Requests
// for a scale no longer wanted (the user zoomed on) are dropped before they start.

#include "document_view/page_source.h"

#include <QCache>
#include <QImage>
#include <QObject>
#include <QThreadPool>

#include <atomic>
#include <memory>
#include <set>

namespace hip::ui {

class PageRenderer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PageRenderer)

public:
    // `cacheMiB`: how much picture memory to keep (the view wants more than the thumbnails).
    explicit PageRenderer(int cacheMiB, QObject* parent = nullptr);
    ~PageRenderer() override;

    // Drops pictures and pending work of the previous document.
    void setSource(std::shared_ptr<const PageSource> source);
    const std::shared_ptr<const PageSource>& source() const { return source_; }

    // The picture of `page` at `pixelsPerPoint` (device pixels), or null while it is rendered.
    // `fallback`, if given, receives the nearest cached picture at another scale to show
    // stretched meanwhile.
    QImage picture(int page, double pixelsPerPoint, QImage* fallback = nullptr);
    // Forget queued requests for scales other than this one (after a zoom).
    void keepOnly(double pixelsPerPoint);
    // Whether a page's picture is mostly dark (decides how overlays blend); false until rendered.
    bool isDark(int page) const;

signals:
    void rendered(int page);

private:
    struct Key {
        int page;
        int scale; // pixelsPerPoint * 1000, so equal scales compare equal
        friend bool operator<(const Key& a, const Key& b) {
            return a.page != b.page ? a.page < b.page : a.scale < b.scale;
        }
    };
    void finish(quint64 generation, Key key, const QImage& image, bool dark);

    std::shared_ptr<const PageSource> source_;
    QThreadPool pool_;
    quint64 generation_ = 0; // bumped per document, so late results of the last one are dropped
    std::set<Key> pending_;
    std::shared_ptr<std::atomic<int>> wantedScale_;
    // Keyed by page * 1e6 + scale; costs in kilobytes.
    QCache<qint64, QImage> cache_;
    std::vector<signed char> dark_; // per page: -1 unknown, 0 light, 1 dark
};

} // namespace hip::ui
