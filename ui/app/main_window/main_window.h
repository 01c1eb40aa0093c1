#pragma once
// The application window: the pages in the middle, the chat on the right, thumbnails with the heat
// strip and the table of contents on the left, memory and attention views below, the activity bar
// above the pages and the status bar. It builds the widgets, the menus and their shortcuts, and
// wires them to the controllers that do the work (model loading, reading, chat).

#include "bridge/bridge_types.h"
#include "chat/chat_message.h"
#include "main_window/document_loader.h"
#include "settings/app_settings.h"

#include <QMainWindow>

#include <functional>
#include <memory>
#include <optional>

class QAction;
class QLabel;
class QListView;
class QMenu;
class QTreeView;

namespace hip::ui {

class ActivityBar;
class AttentionPanel;
class ChatController;
class ChatModel;
class ChatPanel;
class ContextMeter;
class LocalEngineOnly;
class DocumentView;
class EngineBridge;
class FindBar;
class HeatStrip;
class MemoryGauge;
class ModelController;
class OutlineModel;
class ReadingController;
class RemoteEngine;
class ThumbnailModel;

class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    // A yes/no question to the user; tests answer it without a dialog.
    using Question =
        std::function<bool(const QString& title, const QString& text, const QString& yes)>;

    // `settings` outlives the window; `chatFolder` empty means the standard location.
    explicit MainWindow(AppSettings& settings, const QString& chatFolder = {},
                        QWidget* parent = nullptr);
    ~MainWindow() override;

    void setQuestionHandler(Question question);
    // Opens a document (asynchronously: `documentOpened` or a message follows).
    void openFile(const QString& path);
    // Loads the model the settings name (estimate, check, load); with a remote engine, asks the
    // server for its model and context instead.
    void loadModel();

    // For tests and the screenshot script.
    EngineBridge& bridge() const { return *bridge_; }
    // The server that answers, when the settings chose a remote engine; else null.
    RemoteEngine* remoteEngine() const { return remote_; }
    DocumentView* documentView() const { return view_; }
    ChatPanel* chatPanel() const { return chatPanel_; }
    ChatModel& chatModel() const { return *chatModel_; }
    ChatController& chat() const { return *chat_; }
    ActivityBar* activityBar() const { return activity_; }
    ContextMeter* contextMeter() const { return contextMeter_; }
    MemoryGauge* memoryGauge() const { return memory_; }
    QString modelStatus() const; // the status bar's model label: "Loading the model…", "No model"
    QString modelDetails() const; // its tooltip: the model file and the estimate it was loaded by
    AttentionPanel* attentionPanel() const { return attention_; }
    FindBar* findBar() const { return findBar_; }
    ReadingController& reading() const { return *reading_; }
    const std::optional<OpenedDocument>& document() const { return document_; }
    QDockWidget* dock(const QString& objectName) const;

signals:
    void documentOpened(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createWidgets();
    void createDocks();
    void createActions();
    void createStatusBar();
    void connectEngine();
    QDockWidget* addDock(QWidget* widget, const QString& title, const QString& objectName,
                         Qt::DockWidgetArea area);

    void showDocument(const OpenedDocument& document);
    void showAttention(const AttentionSummaryPtr& attention);
    void showSource(const ChatSource& source);
    void updateRecentMenu();
    void updateAskState();
    void showError(const QString& message);
    void showModel(); // the loaded model, or "No model", in the status bar
    // Local engine or a server, as the settings say: the chat asks it, and the views only the
    // local engine fills say so while a server answers.
    void applyEngineChoice();
    void showRemoteContext(); // the book against the server's context, before anything is sent
    void openDialog();
    void exportChat();
    void showSettings();
    void showUserGuide();
    void showAbout();
    bool ask(const QString& title, const QString& text, const QString& yes);

    AppSettings& settings_;
    Question question_;
    EngineBridge* bridge_;
    DocumentLoader* loader_;
    ChatModel* chatModel_;
    ChatController* chat_;
    ModelController* model_;
    ReadingController* reading_;
    RemoteEngine* remote_ = nullptr;
    std::optional<OpenedDocument> document_;

    DocumentView* view_;
    FindBar* findBar_;
    ActivityBar* activity_;
    ChatPanel* chatPanel_;
    ThumbnailModel* thumbnails_;
    QListView* thumbnailView_;
    HeatStrip* heatStrip_;
    OutlineModel* outline_;
    QTreeView* outlineView_;
    MemoryGauge* memory_;
    AttentionPanel* attention_;
    LocalEngineOnly* memoryArea_;    // the gauge, or why it is empty
    LocalEngineOnly* attentionArea_; // the attention panel, or why it is empty
    QLabel* heatNotice_;             // above the thumbnails, in place of the heat strip
    ContextMeter* contextMeter_;
    QLabel* modelLabel_;
    QLabel* pageLabel_;
    QLabel* zoomLabel_;
    QLabel* memoryLabel_;

    QMenu* recentMenu_ = nullptr;
    QAction* exportAction_ = nullptr;
    QAction* askAction_ = nullptr;
    QAction* stopAction_ = nullptr;
    QAction* regenerateAction_ = nullptr;
    QAction* heatAction_ = nullptr;
    QAction* readAgainAction_ = nullptr;
    bool closing_ = false; // closing waits for the engine to stop what it does
};

} // namespace hip::ui
