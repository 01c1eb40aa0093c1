#include "document_view/find_bar.h"

#include "document_view/text_search.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QTimer>
#include <QToolButton>

namespace hip::ui {

FindBar::FindBar(QWidget* parent)
    : QWidget(parent), field_(new QLineEdit(this)),
      matchCase_(new QCheckBox(tr("Match &case"), this)), status_(new QLabel(this)),
      typing_(new QTimer(this)), search_(new TextSearch(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 3, 6, 3);
    auto* label = new QLabel(tr("&Find:"), this);
    label->setBuddy(field_);
    field_->setPlaceholderText(tr("Phrase in the book"));
    field_->setAccessibleName(tr("Find in document"));
    field_->setClearButtonEnabled(true);
    field_->installEventFilter(this);
    matchCase_->setAccessibleName(tr("Match case"));

    auto button = [this](const QString& icon, const QString& text, auto slot) {
        auto* b = new QToolButton(this);
        b->setIcon(QIcon::fromTheme(icon, QIcon(QStringLiteral(":/icons/%1.svg").arg(icon))));
        b->setText(text);
        b->setToolTip(text);
        b->setAccessibleName(text);
        b->setAutoRaise(true);
        connect(b, &QToolButton::clicked, this, slot);
        return b;
    };
    status_->setAccessibleName(tr("Search results"));
    status_->setMinimumWidth(status_->fontMetrics().horizontalAdvance(tr("9999 of 9999")));

    layout->addWidget(label);
    layout->addWidget(field_, 1);
    layout->addWidget(
        button(QStringLiteral("go-up"), tr("Previous hit (Shift+F3)"), &FindBar::findPrevious));
    layout->addWidget(button(QStringLiteral("go-down"), tr("Next hit (F3)"), &FindBar::findNext));
    layout->addWidget(matchCase_);
    layout->addWidget(status_);
    layout->addWidget(
        button(QStringLiteral("window-close"), tr("Close the search bar (Esc)"), &FindBar::close));

    // Search as the user types, once typing pauses.
    typing_->setSingleShot(true);
    typing_->setInterval(250);
    connect(typing_, &QTimer::timeout, this, &FindBar::startSearch);
    connect(field_, &QLineEdit::textChanged, typing_, qOverload<>(&QTimer::start));
    connect(matchCase_, &QCheckBox::toggled, this, &FindBar::startSearch);
    connect(search_, &TextSearch::found, this, &FindBar::showHits);
}

void FindBar::setDocument(DocumentPtr document) {
    search_->setDocument(std::move(document));
    hits_.clear();
    current_ = -1;
    status_->clear();
    emit hitsChanged(hits_);
    if (isVisible() && !field_->text().isEmpty()) startSearch();
}

void FindBar::activate() {
    show();
    field_->setFocus(Qt::ShortcutFocusReason);
    field_->selectAll();
}

void FindBar::startSearch() {
    typing_->stop();
    search_->search(field_->text(),
                    matchCase_->isChecked() ? Qt::CaseSensitive : Qt::CaseInsensitive);
}

void FindBar::showHits(const QString& phrase, const std::vector<hip::TextRange>& hits) {
    if (phrase != field_->text()) return; // the user typed on
    hits_ = hits;
    current_ = -1;
    emit hitsChanged(hits_);
    if (phrase.trimmed().isEmpty())
        status_->clear();
    else if (hits_.empty())
        status_->setText(tr("Not found"));
    else
        step(1);
}

void FindBar::step(int delta) {
    if (hits_.empty()) return;
    const int count = int(hits_.size());
    current_ = current_ < 0 ? (delta > 0 ? 0 : count - 1) : (current_ + delta + count) % count;
    status_->setText(tr("%1 of %2").arg(current_ + 1).arg(count));
    emit currentHitChanged(current_);
}

void FindBar::findNext() {
    if (typing_->isActive()) return startSearch();
    step(1);
}

void FindBar::findPrevious() {
    if (typing_->isActive()) return startSearch();
    step(-1);
}

void FindBar::close() {
    hide();
    hits_.clear();
    current_ = -1;
    emit hitsChanged(hits_);
    emit closed();
}

bool FindBar::eventFilter(QObject* watched, QEvent* event) {
    if (watched == field_ && event->type() == QEvent::ShortcutOverride) {
        // Escape closes the bar rather than stopping an answer while the field has focus.
        if (static_cast<QKeyEvent*>(event)->key() == Qt::Key_Escape) {
            event->accept();
            return true;
        }
    }
    if (watched == field_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Escape) {
            close();
            return true;
        }
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            if (key->modifiers() & Qt::ShiftModifier)
                findPrevious();
            else
                findNext();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace hip::ui
