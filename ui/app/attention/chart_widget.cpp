#include "attention/chart_widget.h"

#include <QCoreApplication>
#include <QPainter>
#include <QPixmap>

namespace hip::ui {

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
