#pragma once
// A view that only the local engine can fill (the attention views, the memory gauge), with a
// notice in its place while a server answers: a server does not say where its model's attention
// went or how much memory it takes.

#include <QStackedWidget>

class QLabel;

namespace hip::ui {

class LocalEngineOnly final : public QStackedWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalEngineOnly)

public:
    // `needs`: the notice's first sentence, "The memory gauge needs the local engine."
    LocalEngineOnly(QWidget* view, QString needs, QWidget* parent = nullptr);

    // Shows the notice, naming the server that answers; an empty `server` shows the view.
    void setRemoteServer(const QString& server);
    bool showsNotice() const { return currentIndex() == 1; }
    QString notice() const;

    // The notice for `server`, also for views that are not wrapped (page heat).
    static QString noticeText(const QString& needs, const QString& server);

private:
    QString needs_;
    QLabel* notice_;
};

} // namespace hip::ui
