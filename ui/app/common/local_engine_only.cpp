#include "common/local_engine_only.h"

#include <QLabel>

namespace hip::ui {

LocalEngineOnly::LocalEngineOnly(QWidget* view, QString needs, QWidget* parent)
    : QStackedWidget(parent), needs_(std::move(needs)), notice_(new QLabel(this)) {
    notice_->setWordWrap(true);
    notice_->setAlignment(Qt::AlignCenter);
    notice_->setMargin(12);
    notice_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    addWidget(view);
    addWidget(notice_);
    setAccessibleName(view->accessibleName());
}

QString LocalEngineOnly::noticeText(const QString& needs, const QString& server) {
    return tr("%1 Answers now come from the server at %2, which does not report where its "
              "model's attention went or how much memory it takes. Settings > Engine > Local "
              "brings them back.")
        .arg(needs, server);
}

void LocalEngineOnly::setRemoteServer(const QString& server) {
    notice_->setText(server.isEmpty() ? QString() : noticeText(needs_, server));
    notice_->setAccessibleName(notice_->text());
    setCurrentIndex(server.isEmpty() ? 0 : 1);
}

QString LocalEngineOnly::notice() const {
    return notice_->text();
}

} // namespace hip::ui
