#include "attention/chart_widget.h"

#include <QCoreApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QWheelEvent>

#include <cmath>

namespace hip::ui {
namespace {

constexpr double kWheelStep = 0.8;     // the view's span per notch of the wheel, zooming in
constexpr double kKeyStep = 0.5;       // per press of +
constexpr double kPanStep = 0.1;       // share of the view an arrow key moves it
constexpr double kLeastDragPixels = 4; // narrower drags are clicks

} // namespace

ChartWidget::ChartWidget(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::TabFocus);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
}

void ChartWidget::dataChanged() {
    update();
    announceSummaryChanged(this);
}

void ChartWidget::setZoomExtent(double min, double max, double minSpan, bool zoomable) {
    const bool wasZoomed = zoomable_ && zoom_.isZoomed();
    zoomable_ = zoomable;
    zoom_.setExtent(min, max, minSpan);
    dragFrom_.reset();
    setFocusPolicy(zoomable ? Qt::StrongFocus : Qt::TabFocus);
    setCursor(zoomable ? Qt::CrossCursor : Qt::ArrowCursor);
    if (wasZoomed) emit zoomChanged(false);
}

void ChartWidget::zoomTo(double from, double to) {
    if (!zoomable_) return;
    zoom_.show(from, to);
    viewChanged();
}

void ChartWidget::resetZoom() {
    if (!zoomable_) return;
    zoom_.reset();
    viewChanged();
}

void ChartWidget::viewChanged() {
    update();
    announceSummaryChanged(this);
    emit zoomChanged(zoom_.isZoomed());
}

double ChartWidget::valueAtX(double x) const {
    const double fraction = plot_.width() > 0 ? (x - plot_.left()) / plot_.width() : 0;
    return zoom_.valueAt(std::clamp(fraction, 0.0, 1.0));
}

void ChartWidget::paintDragSelection(QPainter& painter) const {
    if (!dragFrom_) return;
    const double left = std::clamp(std::min(*dragFrom_, dragTo_), plot_.left(), plot_.right());
    const double right = std::clamp(std::max(*dragFrom_, dragTo_), plot_.left(), plot_.right());
    QColor fill = palette().color(QPalette::Highlight);
    fill.setAlpha(60);
    painter.setPen(QPen(palette().color(QPalette::Highlight), 1));
    painter.setBrush(fill);
    painter.drawRect(QRectF(left, plot_.top(), right - left, plot_.height()));
    painter.setBrush(Qt::NoBrush);
}

void ChartWidget::wheelEvent(QWheelEvent* event) {
    if (!zoomable_ || event->angleDelta().y() == 0) return QWidget::wheelEvent(event);
    const double notches = event->angleDelta().y() / 120.0;
    zoom_.zoomAt(valueAtX(event->position().x()), std::pow(kWheelStep, notches));
    viewChanged();
    event->accept();
}

void ChartWidget::mousePressEvent(QMouseEvent* event) {
    if (!zoomable_ || event->button() != Qt::LeftButton || !plot_.contains(event->position()))
        return QWidget::mousePressEvent(event);
    dragFrom_ = event->position().x();
    dragTo_ = *dragFrom_;
}

void ChartWidget::mouseMoveEvent(QMouseEvent* event) {
    if (!dragFrom_) return QWidget::mouseMoveEvent(event);
    dragTo_ = event->position().x();
    update();
}

void ChartWidget::mouseReleaseEvent(QMouseEvent* event) {
    if (!dragFrom_ || event->button() != Qt::LeftButton) return QWidget::mouseReleaseEvent(event);
    const double from = *dragFrom_;
    dragFrom_.reset();
    dragTo_ = event->position().x();
    if (std::abs(dragTo_ - from) < kLeastDragPixels) {
        update();
        return;
    }
    zoom_.show(valueAtX(from), valueAtX(dragTo_));
    viewChanged();
}

void ChartWidget::mouseDoubleClickEvent(QMouseEvent* event) {
    if (!zoomable_) return QWidget::mouseDoubleClickEvent(event);
    resetZoom();
}

void ChartWidget::keyPressEvent(QKeyEvent* event) {
    if (!zoomable_) return QWidget::keyPressEvent(event);
    const double middle = zoom_.valueAt(0.5);
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoom_.zoomAt(middle, kKeyStep);
        break;
    case Qt::Key_Minus:
        zoom_.zoomAt(middle, 1 / kKeyStep);
        break;
    case Qt::Key_Left:
        zoom_.pan(-kPanStep * zoom_.viewSpan());
        break;
    case Qt::Key_Right:
        zoom_.pan(kPanStep * zoom_.viewSpan());
        break;
    case Qt::Key_Escape:
    case Qt::Key_0:
        if (!zoom_.isZoomed()) return QWidget::keyPressEvent(event);
        zoom_.reset();
        break;
    default:
        return QWidget::keyPressEvent(event);
    }
    viewChanged();
}

hip::Status ChartWidget::savePng(const QString& path) {
    // At least twice the logical size, so a saved chart stays sharp in a document or a slide.
    const double ratio = std::max(2.0, devicePixelRatioF());
    QPixmap picture(size() * ratio);
    picture.setDevicePixelRatio(ratio);
    picture.fill(palette().color(QPalette::Base));
    render(&picture, QPoint(), QRegion(), RenderFlag::DrawChildren);
    if (!picture.save(path, "PNG"))
        return hip::makeError(
            hip::ErrorCode::NotFound,
            QCoreApplication::translate("ChartWidget", "The picture could not be written to %1.")
                .arg(path)
                .toStdString());
    return hip::Status::ok();
}

} // namespace hip::ui
