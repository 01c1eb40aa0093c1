#include "main_window/main_window.h"

#include "attention/attention_panel.h"
#include "bridge/engine_bridge.h"
#include "chat/chat_controller.h"
#include "chat/chat_model.h"
#include "chat/chat_panel.h"
#include "common/formatting.h"
#include "common/local_engine_only.h"
#include "document_view/document_view.h"
#include "document_view/find_bar.h"
#include "document_view/heat_strip.h"
#include "document_view/outline_model.h"
#include "document_view/thumbnail_model.h"
#include "main_window/activity_bar.h"
#include "main_window/context_meter.h"
#include "main_window/model_controller.h"
#include "main_window/reading_controller.h"
#include "memory/memory_gauge.h"
#include "remote/context_fit.h"
#include "remote/remote_engine.h"
#include "settings/settings_dialog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolBar>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>

namespace hip::ui {
namespace {

const QStringList kSuffixes = {QStringLiteral("pdf"),      QStringLiteral("epub"),
                               QStringLiteral("txt"),      QStringLiteral("md"),
                               QStringLiteral("markdown"), QStringLiteral("text")};

QIcon icon(const QString& name) {
    return QIcon::fromTheme(name, QIcon(QStringLiteral(":/icons/%1.svg").arg(name)));
}

bool isSupported(const QString& path) {
    return kSuffixes.contains(QFileInfo(path).suffix().toLower());
}

} // namespace

MainWindow::MainWindow(AppSettings& settings, const QString& chatFolder, QWidget* parent)
    : QMainWindow(parent), settings_(settings), bridge_(new EngineBridge(this)),
      loader_(new DocumentLoader(this, this)), chatModel_(new ChatModel(this)) {
    setWindowTitle(tr("HiP Reader"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/hipreader.svg")));
    setAcceptDrops(true);
    setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);

    chat_ = new ChatController(*bridge_, *chatModel_, settings_, ChatStore(chatFolder), this);
    model_ = new ModelController(
        *bridge_, settings_,
        [this](const QString& reason) {
            return ask(tr("Load the Model?"), reason, tr("Load Anyway"));
        },
        this);
    reading_ = new ReadingController(
        *bridge_,
        [this](const QString& reason) {
            return ask(tr("The Book Does Not Fit"), reason, tr("Read the Pages That Fit"));
        },
        this);

    createWidgets();
    createDocks();
    createActions();
    createStatusBar();
    connectEngine();
    applyEngineChoice();

    if (!restoreGeometry(settings_.windowGeometry())) resize(1400, 900);
    restoreState(settings_.windowState());
    updateAskState();
}

MainWindow::~MainWindow() = default;

void MainWindow::setQuestionHandler(Question question) {
    question_ = std::move(question);
}

bool MainWindow::ask(const QString& title, const QString& text, const QString& yes) {
    if (question_) return question_(title, text, yes);
    QMessageBox box(QMessageBox::Question, title, text, QMessageBox::Cancel, this);
    QPushButton* accept = box.addButton(yes, QMessageBox::AcceptRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == static_cast<QAbstractButton*>(accept);
}

QDockWidget* MainWindow::dock(const QString& objectName) const {
    return findChild<QDockWidget*>(objectName);
}

void MainWindow::createWidgets() {
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    activity_ = new ActivityBar(central);
    view_ = new DocumentView(central);
    findBar_ = new FindBar(central);
    findBar_->hide();
    layout->addWidget(activity_);
    layout->addWidget(view_, 1);
    layout->addWidget(findBar_);
    setCentralWidget(central);

    chatPanel_ = new ChatPanel(chatModel_, this);
    thumbnails_ = new ThumbnailModel(this);
    outline_ = new OutlineModel(this);
    memory_ = new MemoryGauge(this);
    attention_ = new AttentionPanel(bridge_, this);
    memoryArea_ =
        new LocalEngineOnly(memory_, tr("The memory gauge needs the local engine."), this);
    attentionArea_ =
        new LocalEngineOnly(attention_, tr("The attention views need the local engine."), this);
    heatStrip_ = new HeatStrip(this);
}

QDockWidget* MainWindow::addDock(QWidget* widget, const QString& title, const QString& objectName,
                                 Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(widget);
    dock->setAccessibleName(title);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::createDocks() {
    // Pages: the heat strip beside the thumbnails, so the whole book's heat is always in view.
    auto* pages = new QWidget(this);
    auto* pagesColumn = new QVBoxLayout(pages);
    pagesColumn->setContentsMargins(2, 2, 2, 2);
    heatNotice_ = new QLabel(pages);
    heatNotice_->setWordWrap(true);
    heatNotice_->hide();
    pagesColumn->addWidget(heatNotice_);
    auto* pagesLayout = new QHBoxLayout;
    pagesLayout->setSpacing(2);
    pagesColumn->addLayout(pagesLayout, 1);
    thumbnailView_ = new QListView(pages);
    thumbnailView_->setModel(thumbnails_);
    // A single column of pages with their labels underneath, like a book's spine of pages.
    thumbnailView_->setViewMode(QListView::IconMode);
    thumbnailView_->setFlow(QListView::TopToBottom);
    thumbnailView_->setWrapping(false);
    thumbnailView_->setMovement(QListView::Static);
    thumbnailView_->setResizeMode(QListView::Adjust);
    thumbnailView_->setIconSize(
        QSize(ThumbnailModel::kThumbnailWidth, ThumbnailModel::kThumbnailWidth * 3 / 2));
    thumbnailView_->setSpacing(6);
    thumbnailView_->setAccessibleName(tr("Page thumbnails"));
    thumbnailView_->setMinimumWidth(ThumbnailModel::kThumbnailWidth + 60);
    pagesLayout->addWidget(heatStrip_);
    pagesLayout->addWidget(thumbnailView_, 1);
    QDockWidget* pagesDock =
        addDock(pages, tr("Pages"), QStringLiteral("pagesDock"), Qt::LeftDockWidgetArea);

    outlineView_ = new QTreeView(this);
    outlineView_->setModel(outline_);
    outlineView_->setHeaderHidden(true);
    outlineView_->setAccessibleName(tr("Table of contents"));
    QDockWidget* outlineDock = addDock(outlineView_, tr("Contents"), QStringLiteral("outlineDock"),
                                       Qt::LeftDockWidgetArea);
    tabifyDockWidget(pagesDock, outlineDock);
    pagesDock->raise();

    QDockWidget* chatDock =
        addDock(chatPanel_, tr("Chat"), QStringLiteral("chatDock"), Qt::RightDockWidgetArea);
    QDockWidget* memoryDock =
        addDock(memoryArea_, tr("Memory"), QStringLiteral("memoryDock"), Qt::RightDockWidgetArea);
    splitDockWidget(chatDock, memoryDock, Qt::Vertical);
    QDockWidget* attentionDock = addDock(attentionArea_, tr("Attention"),
                                         QStringLiteral("attentionDock"), Qt::BottomDockWidgetArea);
    attentionDock->hide(); // a deep dive: shown from the View menu
    resizeDocks({chatDock}, {480}, Qt::Horizontal);
    resizeDocks({chatDock, memoryDock}, {640, 220}, Qt::Vertical);

    connect(thumbnailView_, &QListView::activated, this,
            [this](const QModelIndex& index) { view_->scrollToPage(index.row()); });
    connect(thumbnailView_, &QListView::clicked, this,
            [this](const QModelIndex& index) { view_->scrollToPage(index.row()); });
    connect(outlineView_, &QTreeView::activated, this, [this](const QModelIndex& index) {
        const int page = index.data(OutlineModel::PageRole).toInt();
        const double top = index.data(OutlineModel::TopRole).toDouble();
        if (page >= 0) view_->scrollToPage(page, std::max(0.0, top));
    });
    connect(heatStrip_, &HeatStrip::pageRequested, view_,
            [this](int page) { view_->scrollToPage(page); });
    connect(view_, &DocumentView::currentPageChanged, this, [this](int page) {
        heatStrip_->setCurrentPage(page);
        if (page >= 0 && page < thumbnails_->rowCount()) {
            const QModelIndex index = thumbnails_->index(page);
            thumbnailView_->selectionModel()->setCurrentIndex(index,
                                                              QItemSelectionModel::ClearAndSelect);
            thumbnailView_->scrollTo(index);
        }
        const auto& doc = document_ ? document_->text : nullptr;
        pageLabel_->setText(doc && page >= 0
                                ? tr("%1 of %2").arg(doc->pageName(page)).arg(view_->pageCount())
                                : QString());
    });
    connect(findBar_, &FindBar::hitsChanged, view_, &DocumentView::setSearchHits);
    connect(findBar_, &FindBar::currentHitChanged, view_, &DocumentView::setCurrentHit);
    connect(findBar_, &FindBar::closed, view_, qOverload<>(&QWidget::setFocus));
    connect(chatPanel_, &ChatPanel::askRequested, this, [this](const QString& question) {
        if (!chat_->ask(question))
            showError(tr("The question could not be sent: the engine is busy."));
    });
    connect(chatPanel_, &ChatPanel::stopRequested, chat_, &ChatController::stop);
    connect(chatPanel_, &ChatPanel::regenerateRequested, chat_, &ChatController::regenerate);
    connect(chatPanel_, &ChatPanel::sourceActivated, this, &MainWindow::showSource);
}

void MainWindow::createActions() {
    auto action = [this](QMenu* menu, const QString& text, const QString& iconName,
                         const QKeySequence& key, auto slot) {
        auto* a = new QAction(icon(iconName), text, this);
        if (!key.isEmpty()) a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        menu->addAction(a);
        return a;
    };

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = action(file, tr("&Open…"), QStringLiteral("document-open"), QKeySequence::Open,
                           &MainWindow::openDialog);
    recentMenu_ = file->addMenu(icon(QStringLiteral("document-open-recent")), tr("Open &Recent"));
    updateRecentMenu();
    file->addSeparator();
    exportAction_ = action(file, tr("&Export Chat as Markdown…"), QStringLiteral("document-export"),
                           QKeySequence(), &MainWindow::exportChat);
    file->addSeparator();
    action(file, tr("&Quit"), QStringLiteral("application-exit"), QKeySequence::Quit,
           &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    action(edit, tr("&Copy"), QStringLiteral("edit-copy"), QKeySequence::Copy, [this] {
        if (QApplication::focusWidget() == view_) view_->copySelection();
    })->setShortcutContext(Qt::WidgetShortcut); // the view and text fields handle Ctrl+C themselves
    edit->addSeparator();
    QAction* find = action(edit, tr("&Find…"), QStringLiteral("edit-find"), QKeySequence::Find,
                           [this] { findBar_->activate(); });
    action(edit, tr("Find &Next"), QStringLiteral("go-down"), QKeySequence::FindNext,
           [this] { findBar_->findNext(); });
    action(edit, tr("Find &Previous"), QStringLiteral("go-up"), QKeySequence::FindPrevious,
           [this] { findBar_->findPrevious(); });
    edit->addSeparator();
    QAction* preferences = action(edit, tr("&Settings…"), QStringLiteral("configure"),
                                  QKeySequence::Preferences, &MainWindow::showSettings);
    preferences->setMenuRole(QAction::PreferencesRole);

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    QAction* zoomIn = action(viewMenu, tr("Zoom &In"), QStringLiteral("zoom-in"),
                             QKeySequence::ZoomIn, [this] { view_->zoomIn(); });
    QAction* zoomOut = action(viewMenu, tr("Zoom &Out"), QStringLiteral("zoom-out"),
                              QKeySequence::ZoomOut, [this] { view_->zoomOut(); });
    QAction* fit = action(viewMenu, tr("Fit &Width"), QStringLiteral("zoom-fit-width"),
                          QKeySequence(tr("Ctrl+9")), [this] { view_->setFitWidth(true); });
    action(viewMenu, tr("&Actual Size"), QStringLiteral("zoom-original"),
           QKeySequence(tr("Ctrl+0")), [this] { view_->setZoom(1.0); });
    viewMenu->addSeparator();
    heatAction_ =
        action(viewMenu, tr("Attention &Heat on Pages"), QStringLiteral("heat"),
               QKeySequence(tr("Ctrl+H")), [this](bool on) { view_->setHeatVisible(on); });
    heatAction_->setCheckable(true);
    heatAction_->setChecked(true);
    viewMenu->addSeparator();
    for (const char* name : {"pagesDock", "outlineDock", "chatDock", "memoryDock", "attentionDock"})
        viewMenu->addAction(dock(QLatin1String(name))->toggleViewAction());

    QMenu* modelMenu = menuBar()->addMenu(tr("&Model"));
    action(modelMenu, tr("&Load Model"), QStringLiteral("system-run"), QKeySequence(),
           &MainWindow::loadModel);
    readAgainAction_ =
        action(modelMenu, tr("&Read the Book into the Model"), QStringLiteral("view-refresh"),
               QKeySequence(), [this] { reading_->start(); });
    modelMenu->addSeparator();
    action(modelMenu, tr("&Cancel What the Model Does"), QStringLiteral("process-stop"),
           QKeySequence(), [this] { bridge_->cancel(); });

    QMenu* chatMenu = menuBar()->addMenu(tr("&Chat"));
    askAction_ = action(chatMenu, tr("&Ask"), QStringLiteral("mail-send"),
                        QKeySequence(tr("Ctrl+Return")), [this] { chatPanel_->submit(); });
    stopAction_ = action(chatMenu, tr("&Stop Answering"), QStringLiteral("process-stop"),
                         QKeySequence(Qt::Key_Escape), [this] {
                             if (chat_->isAnswering())
                                 chat_->stop();
                             else
                                 bridge_->cancel();
                         });
    regenerateAction_ =
        action(chatMenu, tr("&Regenerate the Last Answer"), QStringLiteral("view-refresh"),
               QKeySequence(tr("Ctrl+R")), [this] { chat_->regenerate(); });
    action(chatMenu, tr("&Copy the Chat as Markdown"), QStringLiteral("edit-copy"), QKeySequence(),
           [this] { QApplication::clipboard()->setText(chat_->markdown()); });
    chatMenu->addAction(exportAction_);
    action(chatMenu, tr("&Question Field"), QStringLiteral("edit-rename"),
           QKeySequence(tr("Ctrl+L")),
           [this] { chatPanel_->questionField()->setFocus(Qt::ShortcutFocusReason); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    action(help, tr("&User Guide"), QStringLiteral("help-contents"), QKeySequence::HelpContents,
           &MainWindow::showUserGuide);
    action(help, tr("&About HiP Reader"), QStringLiteral("help-about"), QKeySequence(),
           &MainWindow::showAbout)
        ->setMenuRole(QAction::AboutRole);

    QToolBar* tools = addToolBar(tr("Main Toolbar"));
    tools->setObjectName(QStringLiteral("mainToolbar"));
    tools->setAccessibleName(tr("Main toolbar"));
    for (QAction* a : {open, find})
        tools->addAction(a);
    tools->addSeparator();
    for (QAction* a : {zoomOut, zoomIn, fit})
        tools->addAction(a);
    tools->addSeparator();
    tools->addAction(heatAction_);
    tools->addAction(preferences);
}

void MainWindow::createStatusBar() {
    modelLabel_ = new QLabel(tr("No model"), this);
    modelLabel_->setAccessibleName(tr("Model"));
    contextMeter_ = new ContextMeter(this);
    memoryLabel_ = new QLabel(this);
    memoryLabel_->setAccessibleName(tr("Memory in use"));
    pageLabel_ = new QLabel(this);
    pageLabel_->setAccessibleName(tr("Current page"));
    zoomLabel_ = new QLabel(this);
    zoomLabel_->setAccessibleName(tr("Zoom"));
    statusBar()->addWidget(modelLabel_, 1);
    statusBar()->addPermanentWidget(contextMeter_);
    statusBar()->addPermanentWidget(memoryLabel_);
    statusBar()->addPermanentWidget(pageLabel_);
    statusBar()->addPermanentWidget(zoomLabel_);
    connect(view_, &DocumentView::zoomChanged, this,
            [this](double zoom) { zoomLabel_->setText(tr("%1%").arg(qRound(zoom * 100))); });
}

void MainWindow::connectEngine() {
    connect(activity_, &ActivityBar::cancelRequested, bridge_, &EngineBridge::cancel);
    connect(bridge_, &EngineBridge::busyChanged, this, &MainWindow::updateAskState);
    connect(bridge_, &EngineBridge::loadProgress, this,
            [this](const QString& stage, qint64 done, qint64 total) {
                activity_->showActivity(tr("Loading the model: %1…").arg(stage), done, total, true);
            });
    connect(model_, &ModelController::estimated, this, [this](const QString& description, bool) {
        activity_->showActivity(description, 0, 0, false);
        // Kept where it can be read again once the load has replaced it in the activity bar.
        modelLabel_->setToolTip(description);
    });
    connect(model_, &ModelController::started, this,
            [this] { modelLabel_->setText(tr("Loading the model…")); });
    connect(model_, &ModelController::failed, this, [this](const QString& message) {
        showModel(); // the model loaded before, if any, is still there
        showError(message);
        reading_->start(); // a book waiting for a longer context reads what fits
    });
    connect(reading_, &ReadingController::needsLongerContext, this,
            [this](const QString& title, qint64 documentTokens) {
                if (!model_->fitDocument(title, documentTokens)) reading_->start();
            });
    connect(model_, &ModelController::contextKept, reading_, &ReadingController::start);
    connect(bridge_, &EngineBridge::notice, this,
            [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(bridge_, &EngineBridge::modelLoaded, this, [this](const ModelSummary& model) {
        showModel();
        modelLabel_->setToolTip(QString::fromStdString(model.info.path) + QLatin1Char('\n') +
                                modelLabel_->toolTip());
        memory_->clear();
        memory_->setOnGpu(model.onGpu);
        activity_->clear();
    });
    connect(bridge_, &EngineBridge::memorySampled, this, [this](const MemorySample& sample) {
        memory_->addSample(sample);
        memoryLabel_->setText(
            tr("Memory %1").arg(formatBytes(MemoryHistory::engineBytes(sample.report))));
    });
    connect(bridge_, &EngineBridge::failed, this,
            [this](Operation operation, const QString&, hip::ErrorCode code) {
                // The errors themselves are reported where they belong: answers and readings by
                // their controllers, estimates and loads by the model controller, measurements by
                // the attention panel. Here: what the window shows besides.
                if (operation == Operation::LoadModel) showModel();
                if (code == hip::ErrorCode::Cancelled && !closing_ &&
                    (operation == Operation::LoadModel || operation == Operation::MeasureLocality ||
                     operation == Operation::MeasureWindow))
                    activity_->showNotice(tr("Stopped."), false);
            });
    connect(bridge_, &EngineBridge::finished, this, [this](Operation operation) {
        if (closing_) {
            close();
            return;
        }
        if (operation == Operation::MeasureLocality || operation == Operation::MeasureWindow)
            activity_->clear();
    });
    connect(bridge_, &EngineBridge::measureProgress, this,
            [this](const QString& stage, qint64 done, qint64 total) {
                activity_->showActivity(tr("Measuring attention: %1").arg(stage), done, total,
                                        true);
            });

    connect(reading_, &ReadingController::contextChanged, contextMeter_, &ContextMeter::setContext);
    connect(reading_, &ReadingController::progress, this,
            [this](const QString& text, qint64 done, qint64 total) {
                activity_->showActivity(text, done, total, true);
            });
    connect(reading_, &ReadingController::read, this,
            [this](const DocumentTokensPtr& tokens, int pagesRead, int pages) {
                if (pagesRead < pages && document_)
                    activity_->showNotice(
                        tr("Only pages 1–%1 of %2 of “%3” are in the model's context (%4 tokens): "
                           "answers "
                           "cannot draw on the rest. Choose a longer context in Settings to read "
                           "it whole.")
                            .arg(document_->text->pageName(pagesRead - 1))
                            .arg(pages)
                            .arg(document_->text->title, formatCount(tokens->count())),
                        true);
                else
                    activity_->clear();
                statusBar()->showMessage(
                    tr("The book is in the model: %1 pages, %2 tokens read in %3.")
                        .arg(formatCount(pagesRead), formatCount(tokens->count()),
                             formatDuration(tokens->seconds())),
                    10000);
                updateAskState();
            });
    connect(reading_, &ReadingController::failed, this, &MainWindow::showError);
    connect(reading_, &ReadingController::cancelled, this, [this] {
        if (!closing_)
            activity_->showNotice(
                tr("Reading was cancelled: the book is not in the model. Model > Read the Book "
                   "into the Model starts again."),
                true);
    });

    connect(chat_, &ChatController::answeringChanged, this, [this](bool answering) {
        chatPanel_->setAnswering(answering);
        updateAskState();
    });
    connect(chat_, &ChatController::attentionChanged, this, &MainWindow::showAttention);
    connect(chat_, &ChatController::error, this, &MainWindow::showError);

    connect(loader_, &DocumentLoader::progress, this,
            [this](const QString& path, qint64 done, qint64 total) {
                activity_->showActivity(tr("Opening %1: page %2 of %3")
                                            .arg(QFileInfo(path).fileName())
                                            .arg(done)
                                            .arg(total),
                                        done, total, false);
            });
    connect(loader_, &DocumentLoader::opened, this, &MainWindow::showDocument);
    connect(loader_, &DocumentLoader::failed, this,
            [this](const QString& path, const QString& message) {
                showError(
                    tr("%1 could not be opened: %2").arg(QDir::toNativeSeparators(path), message));
                if (!QFileInfo::exists(path)) {
                    settings_.removeRecentFile(path);
                    updateRecentMenu();
                }
            });
}

void MainWindow::loadModel() {
    if (remote_) {
        modelLabel_->setText(tr("Asking %1 for its model…").arg(remote_->address()));
        remote_->checkServer();
        return;
    }
    if (bridge_->isBusy()) {
        showError(tr("The engine is busy; cancel what it does first."));
        return;
    }
    model_->load();
}

QString MainWindow::modelStatus() const {
    return modelLabel_->text();
}

QString MainWindow::modelDetails() const {
    return modelLabel_->toolTip();
}

void MainWindow::showModel() {
    if (remote_) {
        const std::optional<ServerModel>& server = remote_->server();
        modelLabel_->setText(
            !server ? tr("Remote engine at %1").arg(remote_->address())
            : server->contextTokens > 0
                ? tr("%1 · remote at %2 · context %3 tokens")
                      .arg(server->id, remote_->address(), formatCount(server->contextTokens))
                : tr("%1 · remote at %2 · context not reported")
                      .arg(server->id, remote_->address()));
        return;
    }
    const std::optional<ModelSummary>& model = bridge_->model();
    modelLabel_->setText(model ? tr("%1 · %2 · %3 attention")
                                     .arg(QString::fromStdString(model->info.name), model->device,
                                          QString::fromStdString(model->attention.name))
                               : tr("No model"));
}

void MainWindow::applyEngineChoice() {
    RemoteEngine* previous = std::exchange(remote_, nullptr);
    if (settings_.engineKind() == EngineKind::Remote) {
        remote_ = new RemoteEngine(settings_.remoteOptions(), this);
        connect(remote_, &RemoteEngine::serverChecked, this, [this] {
            showModel();
            showRemoteContext();
        });
        connect(remote_, &RemoteEngine::serverFailed, this, [this](const QString& message) {
            modelLabel_->setText(tr("Remote engine at %1 not reached").arg(remote_->address()));
            showError(message);
        });
        // The book stays out of the local model while a server answers.
        reading_->setDocument(nullptr);
        remote_->setDocument(document_ ? document_->text : nullptr);
        chat_->setEngine(*remote_);
    } else {
        chat_->setEngine(*bridge_);
        if (previous && document_) reading_->setDocument(document_->text);
    }
    delete previous; // after the chat let go of it
    const QString server = remote_ ? remote_->address() : QString();
    memoryArea_->setRemoteServer(server);
    attentionArea_->setRemoteServer(server);
    heatNotice_->setText(
        remote_ ? LocalEngineOnly::noticeText(tr("Page heat needs the local engine."), server)
                : QString());
    heatNotice_->setVisible(remote_ != nullptr);
    heatStrip_->setVisible(!remote_);
    heatAction_->setEnabled(!remote_);
    view_->setHeatVisible(!remote_ && heatAction_->isChecked());
    memoryLabel_->setVisible(!remote_);
    if (remote_) {
        contextMeter_->setContext(0, -1, 0);
        showRemoteContext();
    }
    showModel();
    updateAskState();
}

void MainWindow::showRemoteContext() {
    const std::optional<ServerModel>& server = remote_->server();
    if (!server) return; // known once the server answered
    const qint64 book = document_ ? remote_->documentTokens() : -1;
    const QString problem =
        document_ ? documentFitProblem(document_->text->title, book, server->contextTokens,
                                       settings_.generateOptions().maxTokens)
                  : QString();
    contextMeter_->setContext(server->contextTokens, book, problem.isEmpty() ? book : 0);
    if (!problem.isEmpty())
        activity_->showNotice(problem + QLatin1Char(' ') + tr("Questions about it are not sent."),
                              true);
}

void MainWindow::openFile(const QString& path) {
    activity_->showActivity(tr("Opening %1…").arg(QFileInfo(path).fileName()), 0, 0, false);
    loader_->open(path);
}

void MainWindow::showDocument(const OpenedDocument& document) {
    document_ = document;
    const doc::DocumentText& text = *document.text;
    activity_->clear();
    view_->setSource(document.pages);
    thumbnails_->setDevicePixelRatio(devicePixelRatioF());
    thumbnails_->setSource(document.pages);
    outline_->setOutline(text.outline);
    dock(QStringLiteral("outlineDock"))->setEnabled(!text.outline.empty());
    findBar_->setDocument(document.text);
    heatStrip_->setPageCount(int(text.pages.size()));
    setWindowTitle(tr("%1 — HiP Reader").arg(text.title));
    settings_.addRecentFile(document.path);
    settings_.setLastOpenFolder(QFileInfo(document.path).absolutePath());
    updateRecentMenu();
    if (const QString problem = chat_->setDocument(document.key, document.path, text.title);
        !problem.isEmpty())
        showError(problem);
    if (!text.warnings.isEmpty())
        statusBar()->showMessage(
            tr("Read with warnings: %1").arg(text.warnings.join(QStringLiteral("; "))), 20000);
    if (remote_) {
        remote_->setDocument(document.text);
        showRemoteContext();
    } else {
        reading_->setDocument(document.text);
    }
    updateAskState();
    emit documentOpened(document.path);
}

void MainWindow::showAttention(const AttentionSummaryPtr& attention) {
    view_->setAttention(attention, reading_->tokens());
    if (!document_ || !attention) return;
    std::vector<QString> names;
    names.reserve(document_->text->pages.size());
    for (int page = 0; page < int(document_->text->pages.size()); ++page)
        names.push_back(document_->text->pageName(page));
    heatStrip_->setHeat(attention->pageHeat, std::move(names));
}

void MainWindow::showSource(const ChatSource& source) {
    if (!document_ || source.page < 0) return;
    if (source.textEnd > source.textBegin)
        view_->showPassage(source.page, {source.textBegin, source.textEnd});
    else
        view_->scrollToPage(source.page);
}

void MainWindow::updateRecentMenu() {
    recentMenu_->clear();
    const QStringList files = settings_.recentFiles();
    for (int i = 0; i < files.size(); ++i) {
        const QString& path = files[i];
        QAction* a =
            recentMenu_->addAction(tr("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(QDir::toNativeSeparators(path));
        connect(a, &QAction::triggered, this, [this, path] { openFile(path); });
    }
    if (!files.isEmpty()) {
        recentMenu_->addSeparator();
        connect(recentMenu_->addAction(tr("&Clear the List")), &QAction::triggered, this, [this] {
            settings_.clearRecentFiles();
            updateRecentMenu();
        });
    }
    recentMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::updateAskState() {
    const bool answering = chat_->isAnswering();
    // Why a question cannot go to the local engine now. A server is checked, and the book against
    // it, when a question goes.
    const auto localProblem = [this]() -> QString {
        const std::optional<Operation> busy = bridge_->busyWith();
        if (!bridge_->hasModel())
            return busy == Operation::LoadModel ? tr("Loading the model…")
                                                : tr("No model is loaded (Model > Load Model).");
        if (busy == Operation::ReadDocument) return tr("Reading the book into the model…");
        if (busy && busy != Operation::Answer) return tr("Waiting for the engine to finish…");
        if (document_ && !reading_->isRead())
            return tr("The book is not in the model yet (Model > Read the Book into the Model).");
        return {};
    };
    const QString reason = remote_ ? QString() : localProblem();
    const bool canAsk = reason.isEmpty() && !answering;
    chatPanel_->setCanAsk(reason.isEmpty(), reason);
    askAction_->setEnabled(canAsk);
    stopAction_->setEnabled(answering || bridge_->isBusy());
    regenerateAction_->setEnabled(canAsk && chatModel_->lastAnswerRow() >= 0);
    exportAction_->setEnabled(chatModel_->rowCount() > 0);
    readAgainAction_->setEnabled(!remote_ && document_ && bridge_->hasModel() &&
                                 !bridge_->isBusy());
}

void MainWindow::showError(const QString& message) {
    activity_->showNotice(message, true);
}

void MainWindow::openDialog() {
    const QString folder = settings_.lastOpenFolder().isEmpty()
                               ? QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)
                               : settings_.lastOpenFolder();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a Book"), folder,
        tr("Books (*.pdf *.epub *.txt *.md *.markdown);;PDF (*.pdf);;EPUB (*.epub);;Text (*.txt "
           "*.md *.markdown);;All files (*)"));
    if (!path.isEmpty()) openFile(path);
}

void MainWindow::exportChat() {
    const QString title = document_ ? document_->text->title : tr("chat");
    const QString suggested =
        QFileInfo(settings_.lastOpenFolder(), title + tr(" — questions.md")).filePath();
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the Chat"), suggested, tr("Markdown (*.md)"));
    if (path.isEmpty()) return;
    if (const hip::Status exported = chat_->exportMarkdown(path); !exported)
        showError(QString::fromStdString(exported.message()));
    else
        statusBar()->showMessage(tr("Chat exported to %1").arg(QDir::toNativeSeparators(path)),
                                 8000);
}

void MainWindow::showSettings() {
    SettingsDialog dialog(settings_, this);
    if (dialog.exec() != QDialog::Accepted) return;
    if (dialog.engineSettingsChanged()) {
        applyEngineChoice();
        // The engine chosen gets ready: the server is asked for its model, the local model loads.
        if (remote_ || !bridge_->hasModel()) {
            loadModel();
            return;
        }
    }
    if (remote_ || !dialog.modelSettingsChanged()) return;
    if (ask(tr("Load the Model Again?"),
            tr("The new model settings take effect when the model is loaded again; the book is "
               "then read again."),
            tr("Load Now")))
        loadModel();
}

void MainWindow::showUserGuide() {
    // Installed with the package, or in the source tree of a build that was not installed.
    const QStringList candidates = {
        QDir(QCoreApplication::applicationDirPath())
            .filePath(QStringLiteral("../share/doc/hipreader/USER_GUIDE.md")),
        QStringLiteral(HIPREADER_DOCS_DIR "/USER_GUIDE.md")};
    for (const QString& path : candidates)
        if (QFileInfo::exists(path)) {
            QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(path).absoluteFilePath()));
            return;
        }
    showError(
        tr("The user guide was not found (looked for %1).").arg(candidates.join(tr(" and "))));
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About HiP Reader"),
                       tr("<h3>HiP Reader %1</h3><p>Read whole books with a local language model. "
                          "The whole text goes "
                          "into the model's context through Hierarchically Pruned Attention; "
                          "answers show the pages "
                          "the model attended to.</p>")
                           .arg(QApplication::applicationVersion()));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // A server's answer stops at once, keeping its text in the saved chat.
    if (remote_) chat_->stop();
    // Stop the engine first and close when it has: the GUI never blocks waiting for it, and the
    // model's thread ends without a computation in flight.
    if (bridge_->isBusy()) {
        closing_ = true;
        loader_->cancel();
        bridge_->cancel();
        activity_->showActivity(tr("Stopping…"), 0, 0, false);
        event->ignore();
        return;
    }
    settings_.setWindowGeometry(saveGeometry());
    settings_.setWindowState(saveState());
    settings_.sync();
    // The window closes either way; the person learns that the settings file kept the old ones.
    if (const hip::Status saved = settings_.saveStatus(); !saved)
        QMessageBox::warning(this, tr("Settings not saved"),
                             QString::fromStdString(saved.message()));
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile() && isSupported(urls.front().toLocalFile()))
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile()) return;
    event->acceptProposedAction();
    openFile(urls.front().toLocalFile());
}

} // namespace hip::ui
