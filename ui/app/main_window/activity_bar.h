#pragma once
// The bar above the pages that says what the engine is doing (loading the model, reading the
// book, measuring) with a progress bar, the speed, the time left and a Cancel button; and, when
// idle, anything the reader must not miss (only part of the book is in the model's context).

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace hip::ui {

class ActivityBar final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ActivityBar)

public:
    explicit ActivityBar(QWidget* parent = nullptr);

    // `total` 0 shows a busy indicator without a percentage.
    void showActivity(const QString& text, qint64 done, qint64 total, bool cancellable);
    // A message without progress; `warning` draws it as one.
    void showNotice(const QString& text, bool warning);
    void clear();

    QString text() const;
    QProgressBar* progressBar() const { return progress_; }
    QPushButton* cancelButton() const { return cancel_; }

signals:
    void cancelRequested();

private:
    QLabel* icon_;
    QLabel* label_;
    QProgressBar* progress_;
    QPushButton* cancel_;
    QPushButton* dismiss_;
};

} // namespace hip::ui
