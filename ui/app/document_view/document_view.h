#pragma once
// The pages of the open document, one below the other, with the layers drawn over them: the
// attention heat, the passage a source points to, search hits and the selection (Okular's
// highlight layers). Pages are rendered off the GUI thread at the screen's device pixel ratio;
// every overlay is kept in normalized page coordinates and placed at paint time.

#include "bridge/bridge_types.h"
#include "document_view/page_source.h"

#include <QAbstractScrollArea>

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace hip::ui {

class PageRenderer;

class DocumentView final : public QAbstractScrollArea {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentView)

public:
    static constexpr double kMinZoom = 0.25;
    static constexpr double kMaxZoom = 6.0;

    explicit DocumentView(QWidget* parent = nullptr);
    ~DocumentView() override;

    void setSource(std::shared_ptr<const PageSource> source);
    const std::shared_ptr<const PageSource>& source() const { return source_; }
    int pageCount() const;

    // Zoom 1 shows a page at its printed size on a 96 dpi screen.
    double zoom() const { return zoom_; }
    bool fitsWidth() const { return fitWidth_; }
    void setZoom(double zoom);
    void zoomIn();
    void zoomOut();
    void setFitWidth(bool fit);

    int currentPage() const { return currentPage_; }
    // Scrolls so that `normalizedTop` of `page` is near the top of the view.
    void scrollToPage(int page, double normalizedTop = 0);
    // Highlights a passage (a source of an answer) and scrolls to it.
    void showPassage(int page, hip::TextRange range);
    void clearPassage();
    std::optional<hip::TextRange> passage() const { return passage_; }

    void setSearchHits(std::vector<hip::TextRange> hits);
    // Makes hit `index` the current one (drawn stronger) and scrolls to it.
    void setCurrentHit(int index);

    // The heat of the answer's attention over the pages; null clears it.
    void setAttention(AttentionSummaryPtr attention, DocumentTokensPtr tokens);
    void setHeatVisible(bool visible);
    bool heatVisible() const { return heatVisible_; }

    bool hasSelection() const { return selection_.has_value(); }
    QString selectedText() const;
    void copySelection() const;

    // Where `page` is drawn, in viewport coordinates (for tests and overlays).
    QRectF pageRect(int page) const;

signals:
    void currentPageChanged(int page);
    void zoomChanged(double zoom);
    void selectionChanged(bool hasSelection);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    struct HeatBox {
        doc::NormalizedRect box;
        float intensity; // 0..1
    };
    double pixelsPerPoint() const; // logical pixels
    void relayout();
    void updateScrollBars();
    void updateCurrentPage();
    int pageAt(QPointF viewportPoint) const;
    // The byte under a viewport point, for selection: the nearest on the nearest page.
    std::optional<uint64_t> byteAt(QPoint viewportPoint) const;
    const std::vector<HeatBox>& heatBoxes(int page);
    void paintPage(QPainter& painter, int page, const QRectF& rect);
    void paintBoxes(QPainter& painter, const QRectF& rect,
                    const std::vector<doc::NormalizedRect>& boxes, const QColor& color) const;

    std::shared_ptr<const PageSource> source_;
    PageRenderer* renderer_;
    double zoom_ = 1.0;
    bool fitWidth_ = true;
    std::vector<QRectF> layout_; // page rectangles in document coordinates (logical pixels)
    QSizeF documentSize_;
    int currentPage_ = -1;
    double requestedScale_ = 0; // device pixels per point of the pictures last asked for

    std::optional<hip::TextRange> passage_;
    std::vector<hip::TextRange> hits_;
    int currentHit_ = -1;
    AttentionSummaryPtr attention_;
    DocumentTokensPtr tokens_;
    bool heatVisible_ = true;
    float heatScale_ = 0; // the heaviest token's weight: the top of the colour ramp
    std::map<int, std::vector<HeatBox>> heatCache_;

    std::optional<uint64_t> selectionAnchor_;
    std::optional<hip::TextRange> selection_;
};

} // namespace hip::ui
