#include "document_view/document_view.h"

#include "common/heat_palette.h"
#include "common/theme.h"
#include "document_view/page_renderer.h"

#include <QApplication>
#include <QClipboard>
#include <QKeyEvent>
#include <QPainter>
#include <QScrollBar>

#include <algorithm>
#include <cmath>

namespace hip::ui {
namespace {

constexpr double kBasePixelsPerPoint = 96.0 / 72.0; // zoom 1: printed size on a 96 dpi screen
constexpr double kPageGap = 16;                     // between pages and around them
constexpr double kZoomStep = 1.2;
constexpr int kViewCacheMiB = 256;
// Tokens whose weight is below this share of the heaviest are not drawn: the overlay shows where
// attention went, not a faint wash over every word.
constexpr float kHeatFloor = 0.04f;

QRectF toRect(const doc::NormalizedRect& box, const QRectF& page) {
    return QRectF(page.left() + box.left * page.width(), page.top() + box.top * page.height(),
                  box.width() * page.width(), box.height() * page.height());
}

} // namespace

DocumentView::DocumentView(QWidget* parent)
    : QAbstractScrollArea(parent), renderer_(new PageRenderer(kViewCacheMiB, this)) {
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Document pages"));
    viewport()->setCursor(Qt::IBeamCursor);
    viewport()->setAutoFillBackground(false);
    verticalScrollBar()->setSingleStep(40);
    horizontalScrollBar()->setSingleStep(40);
    connect(renderer_, &PageRenderer::rendered, viewport(), qOverload<>(&QWidget::update));
}

DocumentView::~DocumentView() = default;

void DocumentView::setSource(std::shared_ptr<const PageSource> source) {
    source_ = std::move(source);
    renderer_->setSource(source_);
    passage_.reset();
    hits_.clear();
    currentHit_ = -1;
    attention_.reset();
    tokens_.reset();
    heatCache_.clear();
    selection_.reset();
    selectionAnchor_.reset();
    currentPage_ = -1;
    relayout();
    verticalScrollBar()->setValue(0);
    updateCurrentPage();
    viewport()->update();
}

int DocumentView::pageCount() const {
    return source_ ? source_->pageCount() : 0;
}

double DocumentView::pixelsPerPoint() const {
    return zoom_ * kBasePixelsPerPoint;
}

void DocumentView::relayout() {
    layout_.clear();
    if (!source_) {
        documentSize_ = {};
        updateScrollBars();
        return;
    }
    double widest = 0;
    for (int i = 0; i < source_->pageCount(); ++i)
        widest = std::max(widest, source_->pageSize(i).width());
    if (fitWidth_ && widest > 0) {
        const double available = viewport()->width() - 2 * kPageGap;
        zoom_ = std::clamp(available / (widest * kBasePixelsPerPoint), kMinZoom, kMaxZoom);
    }
    const double scale = pixelsPerPoint();
    const double width = widest * scale + 2 * kPageGap;
    double y = kPageGap;
    for (int i = 0; i < source_->pageCount(); ++i) {
        const QSizeF size = source_->pageSize(i) * scale;
        layout_.emplace_back((width - size.width()) / 2, y, size.width(), size.height());
        y += size.height() + kPageGap;
    }
    documentSize_ = QSizeF(width, y);
    updateScrollBars();
}

void DocumentView::updateScrollBars() {
    const QSize view = viewport()->size();
    verticalScrollBar()->setPageStep(view.height());
    horizontalScrollBar()->setPageStep(view.width());
    verticalScrollBar()->setRange(
        0, std::max(0, int(std::ceil(documentSize_.height())) - view.height()));
    horizontalScrollBar()->setRange(
        0, std::max(0, int(std::ceil(documentSize_.width())) - view.width()));
}

QRectF DocumentView::pageRect(int page) const {
    if (page < 0 || size_t(page) >= layout_.size()) return {};
    // Narrower documents are centred in a wider view.
    const double dx = std::max(0.0, (viewport()->width() - documentSize_.width()) / 2);
    return layout_[size_t(page)].translated(dx - horizontalScrollBar()->value(),
                                            -verticalScrollBar()->value());
}

void DocumentView::setZoom(double zoom) {
    zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    const bool wasFit = std::exchange(fitWidth_, false);
    if (std::abs(zoom - zoom_) < 1e-6 && !wasFit) return;
    // Keep the point at the top of the view where it is.
    const int page = currentPage_;
    const QRectF before = pageRect(page);
    const double top = before.height() > 0 ? -before.top() / before.height() : 0;
    zoom_ = zoom;
    relayout();
    if (page >= 0) scrollToPage(page, std::max(0.0, top));
    viewport()->update();
    emit zoomChanged(zoom_);
}

void DocumentView::zoomIn() {
    setZoom(zoom_ * kZoomStep);
}

void DocumentView::zoomOut() {
    setZoom(zoom_ / kZoomStep);
}

void DocumentView::setFitWidth(bool fit) {
    if (!fit) {
        fitWidth_ = false;
        return;
    }
    const int page = currentPage_;
    fitWidth_ = true;
    relayout();
    if (page >= 0) scrollToPage(page);
    viewport()->update();
    emit zoomChanged(zoom_);
}

void DocumentView::scrollToPage(int page, double normalizedTop) {
    if (page < 0 || size_t(page) >= layout_.size()) return;
    const QRectF& rect = layout_[size_t(page)];
    const double y = rect.top() + normalizedTop * rect.height();
    // Leave a little of what comes before in view, for context.
    verticalScrollBar()->setValue(
        int(y - (normalizedTop > 0 ? viewport()->height() / 4.0 : kPageGap)));
    updateCurrentPage();
}

void DocumentView::showPassage(int page, hip::TextRange range) {
    passage_ = range;
    double top = 0;
    if (source_ && page >= 0 && page < source_->pageCount()) {
        const auto boxes = source_->boxes(page, range);
        if (!boxes.empty()) top = boxes.front().top;
    }
    scrollToPage(page, top);
    viewport()->update();
}

void DocumentView::clearPassage() {
    passage_.reset();
    viewport()->update();
}

void DocumentView::setSearchHits(std::vector<hip::TextRange> hits) {
    hits_ = std::move(hits);
    currentHit_ = -1;
    viewport()->update();
}

void DocumentView::setCurrentHit(int index) {
    if (index < 0 || size_t(index) >= hits_.size() || !source_) return;
    currentHit_ = index;
    const hip::TextRange hit = hits_[size_t(index)];
    const int page = source_->document().pageAt(hit.begin);
    const auto boxes = source_->boxes(page, hit);
    const double top = boxes.empty() ? 0 : boxes.front().top;
    // Scroll only when the hit is not already in view.
    const QRectF rect = pageRect(page);
    const double y = rect.top() + top * rect.height();
    if (y < 0 || y > viewport()->height() - 40) scrollToPage(page, top);
    viewport()->update();
}

void DocumentView::setAttention(AttentionSummaryPtr attention, DocumentTokensPtr tokens) {
    attention_ = std::move(attention);
    tokens_ = std::move(tokens);
    heatCache_.clear();
    heatScale_ = 0;
    if (attention_ && tokens_) {
        const auto& w = attention_->weights;
        const auto first = std::min<size_t>(size_t(tokens_->firstPosition()), w.size());
        const auto end = std::min<size_t>(size_t(tokens_->endPosition()), w.size());
        if (first < end)
            heatScale_ =
                *std::max_element(w.begin() + ptrdiff_t(first), w.begin() + ptrdiff_t(end));
    }
    viewport()->update();
}

void DocumentView::setHeatVisible(bool visible) {
    heatVisible_ = visible;
    viewport()->update();
}

const std::vector<DocumentView::HeatBox>& DocumentView::heatBoxes(int page) {
    auto found = heatCache_.find(page);
    if (found != heatCache_.end()) return found->second;
    std::vector<HeatBox>& boxes = heatCache_[page];
    if (!attention_ || !tokens_ || heatScale_ <= 0) return boxes;
    const hip::TextRange pageRange = source_->document().pageRange(page);
    const hip::KeyRange positions = tokens_->positionsOf(pageRange);
    const auto& weights = attention_->weights;
    for (int64_t p = positions.begin; p < positions.end && size_t(p) < weights.size(); ++p) {
        const float t = weights[size_t(p)] / heatScale_;
        if (t < kHeatFloor) continue;
        // Square root: a token with a quarter of the top weight still shows at half strength.
        const float intensity = std::sqrt(t);
        for (const doc::NormalizedRect& box : source_->boxes(page, tokens_->rangeAt(p)))
            boxes.push_back({box, intensity});
    }
    return boxes;
}

QString DocumentView::selectedText() const {
    return selection_ && source_ ? source_->document().textOf(*selection_) : QString();
}

void DocumentView::copySelection() const {
    if (hasSelection()) QApplication::clipboard()->setText(selectedText());
}

void DocumentView::paintBoxes(QPainter& painter, const QRectF& rect,
                              const std::vector<doc::NormalizedRect>& boxes,
                              const QColor& color) const {
    for (const doc::NormalizedRect& box : boxes)
        painter.fillRect(toRect(box, rect), color);
}

void DocumentView::paintPage(QPainter& painter, int page, const QRectF& rect) {
    const double dpr = devicePixelRatioF();
    QImage fallback;
    QImage image = renderer_->picture(page, pixelsPerPoint() * dpr, &fallback);
    if (image.isNull()) image = fallback;
    painter.fillRect(rect, Qt::white);
    if (!image.isNull()) {
        painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
        painter.drawImage(rect, image);
    }

    // Overlays blend so that the page's ink stays readable through them: Multiply darkens light
    // paper like a highlighter; on a dark page it would vanish, so Screen lightens instead.
    const bool dark = renderer_->isDark(page);
    painter.setCompositionMode(dark ? QPainter::CompositionMode_Screen
                                    : QPainter::CompositionMode_Multiply);
    const hip::TextRange pageRange = source_->document().pageRange(page);
    auto onPage = [&](hip::TextRange r) {
        return r.begin < pageRange.end && r.end > pageRange.begin;
    };

    if (heatVisible_ && attention_) {
        for (const HeatBox& h : heatBoxes(page)) {
            QColor color = heatColor(h.intensity);
            color.setAlphaF(0.35f + 0.45f * h.intensity);
            painter.fillRect(toRect(h.box, rect), color);
        }
    }
    for (size_t i = 0; i < hits_.size(); ++i) {
        if (!onPage(hits_[i])) continue;
        const bool current = int(i) == currentHit_;
        paintBoxes(painter, rect, source_->boxes(page, hits_[i]),
                   current ? QColor(255, 150, 0, 230) : QColor(255, 230, 0, 200));
    }
    if (selection_ && onPage(*selection_)) {
        QColor color = palette().color(QPalette::Highlight);
        color.setAlpha(150);
        paintBoxes(painter, rect, source_->boxes(page, *selection_), color);
    }
    painter.setCompositionMode(QPainter::CompositionMode_SourceOver);
    // The cited passage gets an outline as well as a tint: it must be found at a glance.
    if (passage_ && onPage(*passage_)) {
        const QColor tint = dark ? QColor(120, 170, 255, 90) : QColor(60, 120, 230, 60);
        painter.setPen(QPen(QColor(40, 100, 220), 1.5));
        for (const doc::NormalizedRect& box : source_->boxes(page, *passage_)) {
            const QRectF r = toRect(box, rect).adjusted(-2, -1, 2, 1);
            painter.fillRect(r, tint);
            painter.drawRect(r);
        }
        painter.setPen(Qt::NoPen);
    }
}

void DocumentView::paintEvent(QPaintEvent*) {
    QPainter painter(viewport());
    const QColor background = palette().color(QPalette::Dark);
    painter.fillRect(viewport()->rect(),
                     isDarkPalette(palette()) ? background.darker(150) : background);
    if (!source_) {
        painter.setPen(palette().color(QPalette::BrightText));
        painter.drawText(viewport()->rect(), Qt::AlignCenter | Qt::TextWordWrap,
                         tr("Open a book (File > Open, or drop a PDF, EPUB or text file here)."));
        return;
    }
    // The device pixel ratio is read at every paint: a window moved to another screen gets
    // pictures for that screen, and requests for the old scale are dropped.
    const double scale = pixelsPerPoint() * devicePixelRatioF();
    if (scale != requestedScale_) {
        requestedScale_ = scale;
        renderer_->keepOnly(scale);
    }
    const QRectF visible = viewport()->rect();
    for (int page = 0; page < int(layout_.size()); ++page) {
        const QRectF rect = pageRect(page);
        if (rect.bottom() < visible.top()) continue;
        if (rect.top() > visible.bottom()) break;
        // A soft edge separates white pages from a light background.
        painter.fillRect(rect.translated(2, 2), QColor(0, 0, 0, 60));
        paintPage(painter, page, rect);
    }
}

void DocumentView::resizeEvent(QResizeEvent* event) {
    QAbstractScrollArea::resizeEvent(event);
    const int page = currentPage_;
    relayout();
    if (fitWidth_ && page >= 0) scrollToPage(page);
    updateCurrentPage();
}

void DocumentView::scrollContentsBy(int, int) {
    updateCurrentPage();
    viewport()->update();
}

void DocumentView::updateCurrentPage() {
    // The page covering the line a third of the way down the view: what a reader looks at.
    const int page =
        layout_.empty()
            ? -1
            : std::max(0, pageAt(QPointF(viewport()->width() / 2.0, viewport()->height() / 3.0)));
    if (page == currentPage_) return;
    currentPage_ = page;
    emit currentPageChanged(page);
}

int DocumentView::pageAt(QPointF point) const {
    for (int page = 0; page < int(layout_.size()); ++page) {
        const QRectF rect = pageRect(page);
        if (point.y() < rect.bottom() + kPageGap / 2) return page;
    }
    return int(layout_.size()) - 1;
}

std::optional<uint64_t> DocumentView::byteAt(QPoint point) const {
    if (!source_ || layout_.empty()) return std::nullopt;
    const int page = pageAt(point);
    const QRectF rect = pageRect(page);
    const QPointF normalized((point.x() - rect.left()) / rect.width(),
                             (point.y() - rect.top()) / rect.height());
    return source_->byteAt(page, normalized);
}

void DocumentView::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        const int steps = event->angleDelta().y() / 120;
        if (steps > 0) zoomIn();
        if (steps < 0) zoomOut();
        event->accept();
        return;
    }
    QAbstractScrollArea::wheelEvent(event);
}

void DocumentView::keyPressEvent(QKeyEvent* event) {
    if (event->matches(QKeySequence::Copy)) {
        copySelection();
        return;
    }
    QScrollBar* bar = verticalScrollBar();
    switch (event->key()) {
    case Qt::Key_Home:
        bar->setValue(0);
        return;
    case Qt::Key_End:
        bar->setValue(bar->maximum());
        return;
    case Qt::Key_Space:
        bar->setValue(bar->value() +
                      (event->modifiers() & Qt::ShiftModifier ? -1 : 1) * bar->pageStep());
        return;
    default:
        QAbstractScrollArea::keyPressEvent(event);
    }
}

void DocumentView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QAbstractScrollArea::mousePressEvent(event);
    selectionAnchor_ = byteAt(event->position().toPoint());
    if (selection_) {
        selection_.reset();
        emit selectionChanged(false);
    }
    viewport()->update();
}

void DocumentView::mouseMoveEvent(QMouseEvent* event) {
    if (!(event->buttons() & Qt::LeftButton) || !selectionAnchor_) return;
    const auto here = byteAt(event->position().toPoint());
    if (!here) return;
    const hip::TextRange range{std::min(*selectionAnchor_, *here),
                               std::max(*selectionAnchor_, *here)};
    const bool had = selection_.has_value();
    if (range.begin < range.end)
        selection_ = range;
    else
        selection_.reset();
    if (had != selection_.has_value()) emit selectionChanged(selection_.has_value());
    viewport()->update();
}

void DocumentView::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QAbstractScrollArea::mouseReleaseEvent(event);
    selectionAnchor_.reset();
    event->accept();
}

} // namespace hip::ui
