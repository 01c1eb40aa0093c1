#pragma once
// One message in the conversation: who wrote it, the text (answers rendered from Markdown),
// and for answers the pages they drew on and the actions Copy and Regenerate.

#include "chat/chat_message.h"

#include <QFrame>

class QHBoxLayout;
class QLabel;
class QToolButton;

namespace hip::ui {

class MessageWidget final : public QFrame {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MessageWidget)

public:
    explicit MessageWidget(QWidget* parent = nullptr);

    void setMessage(const ChatMessage& message);
    // Only the last answer can be regenerated.
    void setRegenerateVisible(bool visible);
    QString text() const { return text_; }

signals:
    void copyRequested(const QString& text);
    void regenerateRequested();
    void sourceActivated(const hip::ui::ChatSource& source);
    void sourcesShown(const std::vector<hip::ui::ChatSource>& sources);

private:
    void setSources(const std::vector<ChatSource>& sources);

    QLabel* header_;
    QLabel* body_;
    QLabel* note_;
    QWidget* sourceRow_;
    QHBoxLayout* sourceLayout_;
    QToolButton* copy_;
    QToolButton* regenerate_;
    QString text_;
    std::vector<ChatSource> sources_;
    bool isAnswer_ = false;
};

} // namespace hip::ui
