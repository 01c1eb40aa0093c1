#include "attention/attention_panel.h"

#include "attention/locality_plot.h"
#include "attention/mask_heatmap.h"
#include "attention/window_comparison.h"
#include "bridge/engine_bridge.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QVBoxLayout>

namespace hip::ui {
namespace {

// Locality is measured on this many of the book's first tokens: long enough for distances in the
// thousands, short enough for a CPU to finish in a minute or two.
constexpr int64_t kLocalityTokens = 2048;
constexpr int64_t kWindowKeys = 512;
constexpr int64_t kWindowQueries = 32;

} // namespace

AttentionPanel::AttentionPanel(EngineBridge* bridge, QWidget* parent)
    : QWidget(parent), bridge_(bridge), tabs_(new QTabWidget(this)), mask_(new MaskHeatmap(this)),
      locality_(new LocalityPlot(this)), window_(new WindowComparison(this)),
      maskLayer_(new QSpinBox(this)), localityLayer_(new QSpinBox(this)),
      windowLayer_(new QSpinBox(this)), measureLocality_(new QPushButton(tr("&Measure"), this)),
      measureWindow_(new QPushButton(tr("M&easure"), this)), status_(new QLabel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    tabs_->addTab(page(mask_, maskLayer_, nullptr, true), tr("HiP &mask"));
    tabs_->addTab(page(locality_, localityLayer_, measureLocality_, true), tr("&Locality"));
    tabs_->addTab(page(window_, windowLayer_, measureWindow_, false), tr("&Dense vs HiP"));
    tabs_->setAccessibleName(tr("Attention views"));
    layout->addWidget(tabs_);
    status_->setAccessibleName(tr("Attention status"));
    layout->addWidget(status_);
    setLayers(0);

    measureLocality_->setToolTip(
        tr("Runs the first %1 tokens of the book through the model and measures how alike "
           "the scores of near keys are.")
            .arg(kLocalityTokens));
    measureWindow_->setToolTip(
        tr("Computes exact attention for the last %1 tokens of a %2-token window of the "
           "book and the keys HiP selects for them.")
            .arg(kWindowQueries)
            .arg(kWindowKeys));
    connect(maskLayer_, &QSpinBox::valueChanged, this, &AttentionPanel::refreshMask);
    connect(localityLayer_, &QSpinBox::valueChanged, locality_, &LocalityPlot::setLayer);
    connect(measureLocality_, &QPushButton::clicked, this, &AttentionPanel::measureLocality);
    connect(measureWindow_, &QPushButton::clicked, this, &AttentionPanel::measureWindow);

    connect(bridge_, &EngineBridge::modelLoaded, this,
            [this](const ModelSummary& model) { setLayers(int(model.info.layers)); });
    connect(bridge_, &EngineBridge::answerFinished, this, &AttentionPanel::refreshMask);
    connect(bridge_, &EngineBridge::attentionMaskReady, mask_, &MaskHeatmap::setMask);
    connect(bridge_, &EngineBridge::documentRead, this,
            [this](const DocumentTokensPtr& tokens, int pagesRead) {
                locality_->setTokensPerPage(pagesRead > 0 ? double(tokens->count()) / pagesRead
                                                          : 0);
            });
    connect(bridge_, &EngineBridge::localityMeasured, this,
            [this](const LocalityReportPtr& report) {
                locality_->setReport(report);
                status_->setText(tr("Locality measured on %1 tokens.").arg(report->contextTokens));
            });
    connect(bridge_, &EngineBridge::windowMeasured, this, [this](const AttentionWindowPtr& window) {
        window_->setWindow(window);
        status_->setText(window_->attentionDescription());
    });
    connect(bridge_, &EngineBridge::measureProgress, this,
            [this](const QString& stage, qint64 done, qint64 total) {
                status_->setText(tr("%1: %2 of %3").arg(stage).arg(done).arg(total));
            });
    connect(bridge_, &EngineBridge::failed, this,
            [this](Operation operation, const QString& message, hip::ErrorCode code) {
                const bool cancelled = code == hip::ErrorCode::Cancelled;
                if (operation == Operation::MeasureWindow) window_->setMessage(message);
                if (operation == Operation::MeasureLocality ||
                    operation == Operation::MeasureWindow)
                    status_->setText(cancelled ? tr("Measurement stopped.") : message);
            });
    connect(bridge_, &EngineBridge::busyChanged, this, [this](bool busy) {
        measureLocality_->setEnabled(!busy && bridge_->hasModel());
        measureWindow_->setEnabled(!busy && bridge_->hasModel());
    });
}

QWidget* AttentionPanel::page(ChartWidget* chart, QSpinBox* layer, QPushButton* action,
                              bool zoomable) {
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* controls = new QHBoxLayout;
    auto* label = new QLabel(tr("La&yer:"), page);
    label->setBuddy(layer);
    layer->setAccessibleName(tr("Layer"));
    controls->addWidget(label);
    controls->addWidget(layer);
    if (action) {
        action->setAccessibleName(action->text().remove(QLatin1Char('&')));
        controls->addWidget(action);
    }
    controls->addStretch(1);
    if (zoomable) {
        auto* showAll = new QPushButton(tr("Show &All"), page);
        showAll->setAccessibleName(tr("Show the whole range"));
        showAll->setToolTip(
            tr("Zoom out to the whole range (double-click or Escape on the chart)."));
        showAll->setEnabled(false);
        connect(showAll, &QPushButton::clicked, chart, &ChartWidget::resetZoom);
        connect(chart, &ChartWidget::zoomChanged, showAll, &QPushButton::setEnabled);
        controls->addWidget(showAll);
    }
    auto* saveButton = new QPushButton(tr("&Save PNG…"), page);
    saveButton->setAccessibleName(tr("Save the chart as PNG"));
    connect(saveButton, &QPushButton::clicked, this,
            [this, chart] { save(chart, chart->accessibleName()); });
    controls->addWidget(saveButton);
    layout->addLayout(controls);
    layout->addWidget(chart, 1);
    return page;
}

void AttentionPanel::setLayers(int layers) {
    for (QSpinBox* box : {maskLayer_, localityLayer_, windowLayer_}) {
        box->setRange(0, std::max(0, layers - 1));
        box->setEnabled(layers > 0);
        // The first layers keep most keys (HiP gives them a larger budget); a middle layer shows
        // the pruning at work.
        const QSignalBlocker quiet(box);
        box->setValue(layers / 2);
    }
    locality_->setLayer(layers / 2);
    measureLocality_->setEnabled(layers > 0 && !bridge_->isBusy());
    measureWindow_->setEnabled(layers > 0 && !bridge_->isBusy());
}

void AttentionPanel::refreshMask() {
    if (bridge_->hasModel()) bridge_->requestAttentionMask(maskLayer_->value());
}

void AttentionPanel::measureLocality() {
    if (!bridge_->measureLocality(kLocalityTokens))
        status_->setText(tr("The engine is busy; try again when it is done."));
    else
        status_->setText(tr("Measuring locality…"));
}

void AttentionPanel::measureWindow() {
    AttentionWindowRequest request;
    request.keyTokens = kWindowKeys;
    request.queryTokens = kWindowQueries;
    request.layer = windowLayer_->value();
    if (!bridge_->measureWindow(request))
        status_->setText(tr("The engine is busy; try again when it is done."));
    else
        status_->setText(tr("Measuring…"));
}

void AttentionPanel::save(ChartWidget* chart, const QString& name) {
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString suggested = folder + QLatin1Char('/') +
                              name.toLower().replace(QLatin1Char(' '), QLatin1Char('-')) +
                              QStringLiteral(".png");
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save Chart"), suggested, tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    if (const hip::Status saved = chart->savePng(path); !saved)
        QMessageBox::warning(this, tr("Save Chart"), QString::fromStdString(saved.message()));
}

} // namespace hip::ui
