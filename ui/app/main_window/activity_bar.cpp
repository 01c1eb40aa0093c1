#include "main_window/activity_bar.h"

#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>

namespace hip::ui {

ActivityBar::ActivityBar(QWidget* parent)
    : QWidget(parent), icon_(new QLabel(this)), label_(new QLabel(this)),
      progress_(new QProgressBar(this)), cancel_(new QPushButton(tr("Cancel"), this)),
      dismiss_(new QPushButton(tr("Dismiss"), this)) {
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::AlternateBase);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    label_->setWordWrap(true);
    label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label_->setAccessibleName(tr("Activity"));
    progress_->setAccessibleName(tr("Progress"));
    progress_->setMaximumWidth(220);
    progress_->setTextVisible(true);
    cancel_->setAccessibleName(tr("Cancel the running operation"));
    dismiss_->setAccessibleName(tr("Dismiss the message"));
    layout->addWidget(icon_);
    layout->addWidget(label_, 1);
    layout->addWidget(progress_);
    layout->addWidget(cancel_);
    layout->addWidget(dismiss_);
    connect(cancel_, &QPushButton::clicked, this, &ActivityBar::cancelRequested);
    connect(dismiss_, &QPushButton::clicked, this, &ActivityBar::clear);
    clear();
}

void ActivityBar::showActivity(const QString& text, qint64 done, qint64 total, bool cancellable) {
    icon_->clear();
    icon_->hide();
    label_->setText(text);
    if (total > 0) {
        // QProgressBar takes int: scale large token counts into its range.
        const double fraction = double(done) / double(total);
        progress_->setRange(0, 1000);
        progress_->setValue(int(fraction * 1000));
        progress_->setFormat(QStringLiteral("%1%").arg(int(fraction * 100)));
    } else {
        progress_->setRange(0, 0);
    }
    progress_->show();
    cancel_->setVisible(cancellable);
    dismiss_->hide();
    show();
}

void ActivityBar::showNotice(const QString& text, bool warning) {
    const QStyle::StandardPixmap icon =
        warning ? QStyle::SP_MessageBoxWarning : QStyle::SP_MessageBoxInformation;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    icon_->setPixmap(style()->standardIcon(icon).pixmap(size, size));
    icon_->show();
    label_->setText(text);
    progress_->hide();
    cancel_->hide();
    dismiss_->show();
    show();
}

void ActivityBar::clear() {
    label_->clear();
    hide();
}

QString ActivityBar::text() const {
    return label_->text();
}

} // namespace hip::ui
