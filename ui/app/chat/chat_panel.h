#pragma once
// The chat beside the pages: the conversation (answers stream in as rendered Markdown), the
// sources of the answer in view, and the question field with Ask and Stop. It shows the ChatModel
// and reports what the user asks for; the main window decides what happens.

#include "chat/chat_message.h"

#include <QWidget>

#include <vector>

class QLabel;
class QListView;
class QPlainTextEdit;
class QPushButton;
class QScrollArea;
class QVBoxLayout;

namespace hip::ui {

class ChatModel;
class MessageWidget;
class SourcesModel;

class ChatPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatPanel)

public:
    explicit ChatPanel(ChatModel* model, QWidget* parent = nullptr);

    // While answering, Ask turns into Stop.
    void setAnswering(bool answering);
    // Whether a question can be asked now; `reason` says why not (shown under the field).
    void setCanAsk(bool canAsk, const QString& reason = {});
    void setSources(const std::vector<ChatSource>& sources);

    QPlainTextEdit* questionField() const { return question_; }
    QListView* sourcesView() const { return sourcesView_; }
    SourcesModel* sourcesModel() const { return sources_; }
    // Asks the typed question (Ctrl+Enter, Enter, the Ask button).
    void submit();

signals:
    void askRequested(const QString& question);
    void stopRequested();
    void regenerateRequested();
    void sourceActivated(const hip::ui::ChatSource& source);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuild();
    void insertRows(int first, int last);
    void removeRows(int first, int last);
    void updateRows(int first, int last);
    void updateRegenerate();
    void followEnd();

    ChatModel* model_;
    SourcesModel* sources_;
    QScrollArea* scroll_;
    QWidget* messagesHost_;
    QVBoxLayout* messagesLayout_;
    std::vector<MessageWidget*> widgets_;
    QLabel* sourcesTitle_;
    QListView* sourcesView_;
    QPlainTextEdit* question_;
    QPushButton* ask_;
    QPushButton* stop_;
    QLabel* hint_;
    bool answering_ = false;
    bool canAsk_ = false;
    bool pinnedToEnd_ = true;
};

} // namespace hip::ui
