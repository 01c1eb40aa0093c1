#include "document_view/thumbnail_model.h"

#include "document_view/page_renderer.h"

#include <QImage>

#include <cmath>

namespace hip::ui {

ThumbnailModel::ThumbnailModel(QObject* parent)
    : QAbstractListModel(parent), renderer_(new PageRenderer(48, this)) {
    connect(renderer_, &PageRenderer::rendered, this, [this](int page) {
        if (page < rowCount()) emit dataChanged(index(page), index(page), {Qt::DecorationRole});
    });
}

void ThumbnailModel::setSource(std::shared_ptr<const PageSource> source) {
    beginResetModel();
    source_ = std::move(source);
    renderer_->setSource(source_);
    endResetModel();
}

void ThumbnailModel::setDevicePixelRatio(double ratio) {
    if (std::abs(ratio - ratio_) < 1e-3) return;
    ratio_ = ratio;
    if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), {Qt::DecorationRole});
}

int ThumbnailModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !source_ ? 0 : source_->pageCount();
}

QSize ThumbnailModel::thumbnailSize(int page) const {
    const QSizeF points = source_->pageSize(page);
    const double height = points.width() > 0 ? kThumbnailWidth * points.height() / points.width()
                                             : kThumbnailWidth * 1.4;
    return QSize(kThumbnailWidth, int(std::lround(height)));
}

QVariant ThumbnailModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int page = index.row();
    const doc::DocumentText& document = source_->document();
    const QString label =
        size_t(page) < document.pages.size() && !document.pages[size_t(page)].label.isEmpty()
            ? document.pages[size_t(page)].label
            : QString::number(page + 1);
    switch (role) {
    case Qt::DisplayRole:
        return label;
    case Qt::ToolTipRole:
    case Qt::AccessibleTextRole:
        return size_t(page) < document.pages.size() ? document.pageName(page)
                                                    : tr("page %1").arg(page + 1);
    case Qt::DecorationRole: {
        const QSize size = thumbnailSize(page);
        const double pixelsPerPoint = size.width() * ratio_ / source_->pageSize(page).width();
        QImage picture = renderer_->picture(page, pixelsPerPoint);
        if (picture.isNull()) {
            // A blank page of the right size keeps the list from jumping when pictures arrive.
            picture = QImage(size * ratio_, QImage::Format_ARGB32_Premultiplied);
            picture.fill(Qt::white);
        }
        picture.setDevicePixelRatio(ratio_);
        return picture;
    }
    default:
        return {};
    }
}

} // namespace hip::ui
