#pragma once
// One row per page: its label and a small picture, rendered on demand (a list view asks only for
// the rows it shows) off the GUI thread.

#include "document_view/page_source.h"

#include <QAbstractListModel>

#include <memory>

namespace hip::ui {

class PageRenderer;

class ThumbnailModel final : public QAbstractListModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ThumbnailModel)

public:
    static constexpr int kThumbnailWidth = 96; // logical pixels

    explicit ThumbnailModel(QObject* parent = nullptr);

    void setSource(std::shared_ptr<const PageSource> source);
    // Thumbnails are rendered for this ratio (the view's screen).
    void setDevicePixelRatio(double ratio);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

private:
    QSize thumbnailSize(int page) const; // logical pixels
    std::shared_ptr<const PageSource> source_;
    PageRenderer* renderer_;
    double ratio_ = 1;
};

} // namespace hip::ui
