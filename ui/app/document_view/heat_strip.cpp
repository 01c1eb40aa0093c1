#include "document_view/heat_strip.h"

#include "common/formatting.h"
#include "common/heat_palette.h"

#include <QHelpEvent>
#include <QImage>
#include <QKeyEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hip::ui {
namespace {

constexpr double kLeastPages = 8;  // the closest zoom shows this many pages
constexpr double kWheelStep = 0.8; // the view's span per notch of the wheel, zooming in
constexpr double kLeastDragPixels = 4;

} // namespace

HeatStrip::HeatStrip(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Attention over the book"));
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
}

QSize HeatStrip::sizeHint() const {
    return {16, 200};
}

void HeatStrip::setPageCount(int pages) {
    pages_ = pages;
    heat_.clear();
    names_.clear();
    maxHeat_ = 0;
    current_ = -1;
    zoom_.setExtent(0, std::max(pages, 0), std::min(double(pages), kLeastPages));
    update();
    announceSummaryChanged(this);
}

void HeatStrip::setHeat(std::vector<float> heat, std::vector<QString> pageNames) {
    heat_ = std::move(heat);
    names_ = std::move(pageNames);
    maxHeat_ = heat_.empty() ? 0 : *std::max_element(heat_.begin(), heat_.end());
    update();
    announceSummaryChanged(this);
}

void HeatStrip::setCurrentPage(int page) {
    if (page == current_) return;
    current_ = page;
    // Keep the page in view when zoomed: the strip follows the reader.
    if (page >= 0 && (page < zoom_.viewMin() || page + 1 > zoom_.viewMax()))
        zoom_.pan(page < zoom_.viewMin() ? page - zoom_.viewMin() : page + 1 - zoom_.viewMax());
    update();
}

std::pair<int, int> HeatStrip::pagesInView() const {
    if (pages_ <= 0) return {-1, -1};
    return {int(zoom_.viewMin()),
            std::max(int(zoom_.viewMin()), int(std::ceil(zoom_.viewMax())) - 1)};
}

void HeatStrip::zoomTo(int first, int last) {
    zoom_.show(std::min(first, last), std::max(first, last) + 1);
    viewChanged();
}

void HeatStrip::resetZoom() {
    zoom_.reset();
    viewChanged();
}

void HeatStrip::viewChanged() {
    update();
    announceSummaryChanged(this);
}

QString HeatStrip::nameOf(int page) const {
    return size_t(page) < names_.size() ? names_[size_t(page)] : tr("page %1").arg(page + 1);
}

QString HeatStrip::accessibleSummary() const {
    if (pages_ == 0) return tr("No document is open.");
    QString view;
    if (zoom_.isZoomed()) {
        const auto [first, last] = pagesInView();
        view = QLatin1Char(' ') + tr("Showing %1 to %2.").arg(nameOf(first), nameOf(last));
    }
    if (maxHeat_ <= 0)
        return tr("%n page(s); no answer's attention to show yet.", "", pages_) + view;
    std::vector<int> order(heat_.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t shown = std::min<size_t>(3, order.size());
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(shown), order.end(),
                      [&](int a, int b) { return heat_[size_t(a)] > heat_[size_t(b)]; });
    QStringList most;
    for (size_t i = 0; i < shown; ++i) {
        const int page = order[i];
        if (heat_[size_t(page)] <= 0) break;
        most << tr("%1 (%2%)").arg(nameOf(page)).arg(qRound(heat_[size_t(page)] * 100));
    }
    return tr("Most attention on %1.").arg(most.join(QStringLiteral(", "))) + view;
}

int HeatStrip::pageAtY(double y) const {
    if (pages_ <= 0 || height() <= 0) return -1;
    return std::clamp(int(zoom_.valueAt(y / height())), 0, pages_ - 1);
}

double HeatStrip::yOfPage(double page) const {
    return (page - zoom_.viewMin()) / zoom_.viewSpan() * height();
}

std::vector<float> HeatStrip::rowHeat(int rows) const {
    std::vector<float> out(size_t(std::max(rows, 0)), 0.0f);
    if (pages_ <= 0 || maxHeat_ <= 0) return out;
    const int known = std::min(pages_, int(heat_.size()));
    for (int row = 0; row < rows; ++row) {
        // The pages this row overlaps; at least the one under its middle.
        const double top = zoom_.valueAt(double(row) / rows);
        const double bottom = zoom_.valueAt(double(row + 1) / rows);
        const int first = std::clamp(int(top), 0, pages_ - 1);
        const int last = std::clamp(int(std::ceil(bottom)) - 1, first, pages_ - 1);
        float hottest = 0;
        for (int page = first; page <= last && page < known; ++page)
            hottest = std::max(hottest, heat_[size_t(page)]);
        out[size_t(row)] = hottest / maxHeat_;
    }
    return out;
}

void HeatStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    const QRectF area = rect();
    painter.fillRect(area, palette().color(QPalette::Base));
    if (pages_ <= 0) return;
    if (maxHeat_ > 0) {
        // One pixel row per device pixel, coloured by the hottest page it stands for.
        const int rows = std::max(1, int(std::lround(area.height() * devicePixelRatioF())));
        const std::vector<float> heat = rowHeat(rows);
        QImage strip(1, rows, QImage::Format_ARGB32);
        for (int row = 0; row < rows; ++row)
            strip.setPixel(0, row,
                           heat[size_t(row)] > 0.01f ? heatColor(heat[size_t(row)]).rgba() : 0u);
        painter.drawImage(area, strip);
    }
    const QColor marker = palette().color(QPalette::Highlight);
    if (current_ >= 0 && current_ + 1 > zoom_.viewMin() && current_ < zoom_.viewMax()) {
        painter.setPen(QPen(marker, 2));
        painter.setBrush(Qt::NoBrush);
        const double top = yOfPage(current_);
        painter.drawRect(
            QRectF(1, top, area.width() - 2, std::max(3.0, yOfPage(current_ + 1) - top)));
    }
    // Zoomed: a dashed edge where more of the book lies beyond the view.
    painter.setPen(QPen(palette().color(QPalette::WindowText), 2, Qt::DashLine));
    if (zoom_.viewMin() > zoom_.min()) painter.drawLine(QPointF(0, 1), QPointF(area.width(), 1));
    if (zoom_.viewMax() < zoom_.max())
        painter.drawLine(QPointF(0, area.bottom() - 1), QPointF(area.width(), area.bottom() - 1));
    if (dragFrom_) {
        QColor fill = marker;
        fill.setAlpha(70);
        painter.fillRect(
            QRectF(0, std::min(*dragFrom_, dragTo_), area.width(), std::abs(dragTo_ - *dragFrom_)),
            fill);
    }
    if (hasFocus()) {
        painter.setPen(QPen(marker, 1, Qt::DotLine));
        painter.drawRect(area.adjusted(0, 0, -1, -1));
    }
}

void HeatStrip::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier)) {
        dragFrom_ = event->position().y();
        dragTo_ = *dragFrom_;
        return;
    }
    if (const int page = pageAtY(event->position().y()); page >= 0) emit pageRequested(page);
}

void HeatStrip::mouseMoveEvent(QMouseEvent* event) {
    if (dragFrom_) {
        dragTo_ = std::clamp(event->position().y(), 0.0, double(height()));
        update();
    } else if (event->buttons() & Qt::LeftButton) {
        mousePressEvent(event);
    }
}

void HeatStrip::mouseReleaseEvent(QMouseEvent* event) {
    if (!dragFrom_) return QWidget::mouseReleaseEvent(event);
    const double from = *dragFrom_;
    dragFrom_.reset();
    const double to = std::clamp(event->position().y(), 0.0, double(height()));
    if (std::abs(to - from) >= kLeastDragPixels && height() > 0)
        zoom_.show(zoom_.valueAt(from / height()), zoom_.valueAt(to / height()));
    viewChanged();
}

void HeatStrip::mouseDoubleClickEvent(QMouseEvent*) {
    resetZoom();
}

void HeatStrip::wheelEvent(QWheelEvent* event) {
    if (pages_ <= 0 || height() <= 0 || event->angleDelta().y() == 0)
        return QWidget::wheelEvent(event);
    zoom_.zoomAt(zoom_.valueAt(event->position().y() / height()),
                 std::pow(kWheelStep, event->angleDelta().y() / 120.0));
    viewChanged();
    event->accept();
}

void HeatStrip::keyPressEvent(QKeyEvent* event) {
    if (pages_ <= 0) return QWidget::keyPressEvent(event);
    int page = current_;
    switch (event->key()) {
    case Qt::Key_Up:
        page = std::max(0, page - 1);
        break;
    case Qt::Key_Down:
        page = std::min(pages_ - 1, page + 1);
        break;
    case Qt::Key_Home:
        page = 0;
        break;
    case Qt::Key_End:
        page = pages_ - 1;
        break;
    case Qt::Key_Escape:
        if (!zoom_.isZoomed()) return QWidget::keyPressEvent(event);
        resetZoom();
        return;
    default:
        return QWidget::keyPressEvent(event);
    }
    emit pageRequested(page);
}

bool HeatStrip::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip && pages_ > 0) {
        const auto* help = static_cast<QHelpEvent*>(event);
        const int page = pageAtY(help->pos().y());
        QString text = nameOf(page);
        if (maxHeat_ > 0 && size_t(page) < heat_.size())
            text += tr(": %1% of the answer's attention").arg(heat_[size_t(page)] * 100, 0, 'f', 1);
        const auto [first, last] = pagesInView();
        text += QLatin1Char('\n') +
                (zoom_.isZoomed() ? tr("Showing %1 to %2 of %3 pages.")
                                        .arg(nameOf(first), nameOf(last), formatCount(pages_))
                                  : tr("The whole book, %1 pages.").arg(formatCount(pages_)));
        text += QLatin1Char('\n') + tr("Click to go to a page; scroll or Shift+drag to zoom; "
                                       "double-click or Escape for the whole book.");
        QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace hip::ui
