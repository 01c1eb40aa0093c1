#pragma once
// The search bar under the pages: type a phrase, every hit is highlighted, Enter and Shift+Enter
// (or F3 and Shift+F3) step through them, Escape closes the bar.

#include "bridge/bridge_types.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QLabel;
class QLineEdit;
class QTimer;

namespace hip::ui {

class TextSearch;

class FindBar final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FindBar)

public:
    explicit FindBar(QWidget* parent = nullptr);

    void setDocument(DocumentPtr document);
    // Shows the bar with the field focused and its text selected.
    void activate();
    void findNext();
    void findPrevious();
    int hitCount() const { return int(hits_.size()); }
    int currentHit() const { return current_; }
    QLineEdit* field() const { return field_; }

signals:
    void hitsChanged(const std::vector<hip::TextRange>& hits);
    void currentHitChanged(int index);
    void closed();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void startSearch();
    void showHits(const QString& phrase, const std::vector<hip::TextRange>& hits);
    void step(int delta);
    void close();

    QLineEdit* field_;
    QCheckBox* matchCase_;
    QLabel* status_;
    QTimer* typing_;
    TextSearch* search_;
    std::vector<hip::TextRange> hits_;
    int current_ = -1;
};

} // namespace hip::ui
