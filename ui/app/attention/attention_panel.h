#pragma once
// The attention views in one panel, a tab each: HiP's mask for a chosen layer (from the last
// answer), the locality plot (measured on the book's text) and dense attention beside HiP's
// selection for a short window. Each tab picks a layer and saves its chart as a PNG.

#include "bridge/bridge_types.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace hip::ui {

class EngineBridge;
class LocalityPlot;
class MaskHeatmap;
class WindowComparison;
class ChartWidget;

class AttentionPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttentionPanel)

public:
    explicit AttentionPanel(EngineBridge* bridge, QWidget* parent = nullptr);

    MaskHeatmap* maskView() const { return mask_; }
    LocalityPlot* localityView() const { return locality_; }
    WindowComparison* windowView() const { return window_; }
    QTabWidget* tabs() const { return tabs_; }

    // Asks the engine for the mask of the chosen layer (after an answer).
    void refreshMask();
    void measureLocality();
    void measureWindow();

private:
    // `zoomable`: the chart zooms along x, and a button shows all of it again.
    QWidget* page(ChartWidget* chart, QSpinBox* layer, QPushButton* action, bool zoomable);
    void setLayers(int layers);
    void save(ChartWidget* chart, const QString& name);

    EngineBridge* bridge_;
    QTabWidget* tabs_;
    MaskHeatmap* mask_;
    LocalityPlot* locality_;
    WindowComparison* window_;
    QSpinBox* maskLayer_;
    QSpinBox* localityLayer_;
    QSpinBox* windowLayer_;
    QPushButton* measureLocality_;
    QPushButton* measureWindow_;
    QLabel* status_;
};

} // namespace hip::ui
