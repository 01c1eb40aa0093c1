#include "document_view/heat_strip.h"

#include "common/heat_palette.h"

#include <QKeyEvent>
#include <QPainter>

#include <algorithm>
#include <numeric>

namespace hip::ui {

HeatStrip::HeatStrip(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Attention over the book"));
    setToolTip(tr("Where the answer's attention went, page by page, over the whole book. "
                  "Click to go to a page."));
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
    update();
}

QString HeatStrip::accessibleSummary() const {
    if (pages_ == 0) return tr("No document is open.");
    if (maxHeat_ <= 0) return tr("%n page(s); no answer's attention to show yet.", "", pages_);
    std::vector<int> order(heat_.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t shown = std::min<size_t>(3, order.size());
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(shown), order.end(),
                      [&](int a, int b) { return heat_[size_t(a)] > heat_[size_t(b)]; });
    QStringList most;
    for (size_t i = 0; i < shown; ++i) {
        const int page = order[i];
        if (heat_[size_t(page)] <= 0) break;
        const QString name =
            size_t(page) < names_.size() ? names_[size_t(page)] : tr("page %1").arg(page + 1);
        most << tr("%1 (%2%)").arg(name).arg(qRound(heat_[size_t(page)] * 100));
    }
    return tr("Most attention on %1.").arg(most.join(QStringLiteral(", ")));
}

int HeatStrip::pageAtY(double y) const {
    if (pages_ <= 0 || height() <= 0) return -1;
    return std::clamp(int(y / height() * pages_), 0, pages_ - 1);
}

void HeatStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    const QRectF area = rect();
    painter.fillRect(area, palette().color(QPalette::Base));
    if (pages_ <= 0) return;
    const double band = area.height() / pages_;
    if (maxHeat_ > 0) {
        for (int page = 0; page < pages_ && size_t(page) < heat_.size(); ++page) {
            const float t = heat_[size_t(page)] / maxHeat_;
            if (t <= 0.01f) continue;
            // At least a pixel, so a hot page in a thousand-page book still shows.
            painter.fillRect(QRectF(0, page * band, area.width(), std::max(1.0, band)),
                             heatColor(t));
        }
    }
    if (current_ >= 0) {
        const QColor marker = palette().color(QPalette::Highlight);
        painter.setPen(QPen(marker, 2));
        painter.setBrush(Qt::NoBrush);
        painter.drawRect(QRectF(1, current_ * band, area.width() - 2, std::max(3.0, band)));
    }
    if (hasFocus()) {
        painter.setPen(QPen(palette().color(QPalette::Highlight), 1, Qt::DotLine));
        painter.drawRect(area.adjusted(0, 0, -1, -1));
    }
}

void HeatStrip::mousePressEvent(QMouseEvent* event) {
    if (const int page = pageAtY(event->position().y()); page >= 0) emit pageRequested(page);
}

void HeatStrip::mouseMoveEvent(QMouseEvent* event) {
    if (event->buttons() & Qt::LeftButton) mousePressEvent(event);
}

void HeatStrip::keyPressEvent(QKeyEvent* event) {
    if (pages_ <= 0) return QWidget::keyPressEvent(event);
    int page = current_;
    switch (event->key()) {
    case Qt::Key_Up:
        page = std::max(0, current_ - 1);
        break;
    case Qt::Key_Down:
        page = std::min(pages_ - 1, current_ + 1);
        break;
    case Qt::Key_Home:
        page = 0;
        break;
    case Qt::Key_End:
        page = pages_ - 1;
        break;
    default:
        return QWidget::keyPressEvent(event);
    }
    emit pageRequested(page);
}

} // namespace hip::ui
