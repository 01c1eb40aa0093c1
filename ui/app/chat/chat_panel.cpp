#include "chat/chat_panel.h"

#include "chat/chat_model.h"
#include "chat/message_widget.h"
#include "chat/source_delegate.h"
#include "chat/sources_model.h"

#include <QApplication>
#include <QClipboard>
#include <QKeyEvent>
#include <QLabel>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QVBoxLayout>

namespace hip::ui {

ChatPanel::ChatPanel(ChatModel* model, QWidget* parent)
    : QWidget(parent), model_(model), sources_(new SourcesModel(this)),
      scroll_(new QScrollArea(this)), messagesHost_(new QWidget),
      messagesLayout_(new QVBoxLayout(messagesHost_)),
      sourcesTitle_(new QLabel(tr("&Sources of the answer"), this)),
      sourcesView_(new QListView(this)), question_(new QPlainTextEdit(this)),
      ask_(new QPushButton(tr("&Ask"), this)), stop_(new QPushButton(tr("Stop"), this)),
      hint_(new QLabel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    messagesLayout_->setContentsMargins(2, 2, 2, 2);
    messagesLayout_->setSpacing(6);
    messagesLayout_->addStretch(1);
    scroll_->setWidget(messagesHost_);
    scroll_->setWidgetResizable(true);
    scroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll_->setAccessibleName(tr("Conversation"));
    // Follow the end of a streaming answer unless the user scrolled up to read something.
    connect(scroll_->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        pinnedToEnd_ = value >= scroll_->verticalScrollBar()->maximum() - 4;
    });
    connect(scroll_->verticalScrollBar(), &QScrollBar::rangeChanged, this, [this] { followEnd(); });

    auto* sourcesBox = new QWidget(this);
    auto* sourcesLayout = new QVBoxLayout(sourcesBox);
    sourcesLayout->setContentsMargins(0, 0, 0, 0);
    QFont bold = sourcesTitle_->font();
    bold.setBold(true);
    sourcesTitle_->setFont(bold);
    sourcesTitle_->setBuddy(sourcesView_);
    sourcesView_->setModel(sources_);
    sourcesView_->setItemDelegate(new SourceDelegate(sourcesView_));
    sourcesView_->setAccessibleName(tr("Sources of the answer"));
    sourcesView_->setAccessibleDescription(
        tr("Pages the model attended to most while answering. Press Enter to go to one."));
    sourcesView_->setWordWrap(true);
    sourcesView_->setUniformItemSizes(true);
    sourcesLayout->addWidget(sourcesTitle_);
    sourcesLayout->addWidget(sourcesView_);
    auto activate = [this](const QModelIndex& index) {
        if (index.isValid()) emit sourceActivated(sources_->source(index.row()));
    };
    connect(sourcesView_, &QListView::activated, this, activate);
    connect(sourcesView_, &QListView::clicked, this, activate);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(scroll_);
    split->addWidget(sourcesBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({600, 200});
    split->setChildrenCollapsible(false);
    layout->addWidget(split, 1);

    question_->setPlaceholderText(
        tr("Ask about the book… (Enter or Ctrl+Enter to ask, Shift+Enter for a new line)"));
    question_->setAccessibleName(tr("Question"));
    question_->setTabChangesFocus(true);
    question_->setMaximumHeight(question_->fontMetrics().lineSpacing() * 5);
    question_->installEventFilter(this);
    auto* row = new QHBoxLayout;
    row->addWidget(question_, 1);
    auto* buttons = new QVBoxLayout;
    ask_->setAccessibleName(tr("Ask"));
    ask_->setToolTip(tr("Ask the question (Ctrl+Enter)"));
    stop_->setAccessibleName(tr("Stop answering"));
    stop_->setToolTip(tr("Stop the answer (Esc)"));
    stop_->setVisible(false);
    buttons->addWidget(ask_);
    buttons->addWidget(stop_);
    buttons->addStretch(1);
    row->addLayout(buttons);
    layout->addLayout(row);
    hint_->setWordWrap(true);
    hint_->setAccessibleName(tr("Chat status"));
    layout->addWidget(hint_);

    connect(ask_, &QPushButton::clicked, this, &ChatPanel::submit);
    connect(stop_, &QPushButton::clicked, this, &ChatPanel::stopRequested);
    connect(model_, &QAbstractItemModel::modelReset, this, &ChatPanel::rebuild);
    connect(model_, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex&, int first, int last) { insertRows(first, last); });
    connect(model_, &QAbstractItemModel::rowsRemoved, this,
            [this](const QModelIndex&, int first, int last) { removeRows(first, last); });
    connect(model_, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& from, const QModelIndex& to) {
                updateRows(from.row(), to.row());
            });
    rebuild();
    setCanAsk(false);
}

void ChatPanel::rebuild() {
    for (MessageWidget* w : widgets_)
        delete w;
    widgets_.clear();
    if (model_->rowCount() > 0) insertRows(0, model_->rowCount() - 1);
    const int answer = model_->lastAnswerRow();
    setSources(answer >= 0 ? model_->message(answer).sources : std::vector<ChatSource>{});
}

void ChatPanel::insertRows(int first, int last) {
    for (int row = first; row <= last; ++row) {
        auto* widget = new MessageWidget(messagesHost_);
        widget->setMessage(model_->message(row));
        connect(widget, &MessageWidget::copyRequested, this,
                [](const QString& text) { QApplication::clipboard()->setText(text); });
        connect(widget, &MessageWidget::regenerateRequested, this, &ChatPanel::regenerateRequested);
        connect(widget, &MessageWidget::sourceActivated, this, &ChatPanel::sourceActivated);
        connect(widget, &MessageWidget::sourcesShown, this, &ChatPanel::setSources);
        // The layout ends with a stretch: messages go before it.
        messagesLayout_->insertWidget(row, widget);
        widgets_.insert(widgets_.begin() + row, widget);
    }
    pinnedToEnd_ = true;
    updateRegenerate();
}

void ChatPanel::removeRows(int first, int last) {
    for (int row = last; row >= first; --row) {
        delete widgets_[size_t(row)];
        widgets_.erase(widgets_.begin() + row);
    }
    updateRegenerate();
}

void ChatPanel::updateRows(int first, int last) {
    for (int row = first; row <= last && size_t(row) < widgets_.size(); ++row) {
        const ChatMessage& message = model_->message(row);
        widgets_[size_t(row)]->setMessage(message);
        if (message.role == ChatMessage::Role::Assistant && row == model_->lastAnswerRow())
            setSources(message.sources);
    }
    updateRegenerate();
}

void ChatPanel::updateRegenerate() {
    const int last = model_->lastAnswerRow();
    for (size_t row = 0; row < widgets_.size(); ++row)
        widgets_[row]->setRegenerateVisible(int(row) == last && !answering_ &&
                                            int(row) == model_->rowCount() - 1 && canAsk_);
}

void ChatPanel::followEnd() {
    if (pinnedToEnd_)
        scroll_->verticalScrollBar()->setValue(scroll_->verticalScrollBar()->maximum());
}

void ChatPanel::setSources(const std::vector<ChatSource>& sources) {
    sources_->setSources(sources);
    sourcesTitle_->setText(
        sources.empty() ? tr("&Sources of the answer (none yet)")
                        : tr("&Sources of the answer (%n page(s))", "", int(sources.size())));
}

void ChatPanel::setAnswering(bool answering) {
    answering_ = answering;
    ask_->setVisible(!answering);
    stop_->setVisible(answering);
    ask_->setEnabled(canAsk_ && !answering);
    updateRegenerate();
}

void ChatPanel::setCanAsk(bool canAsk, const QString& reason) {
    canAsk_ = canAsk;
    ask_->setEnabled(canAsk && !answering_);
    hint_->setText(reason);
    hint_->setVisible(!reason.isEmpty());
    updateRegenerate();
}

void ChatPanel::submit() {
    const QString question = question_->toPlainText().trimmed();
    if (question.isEmpty() || !canAsk_ || answering_) return;
    question_->clear();
    emit askRequested(question);
}

bool ChatPanel::eventFilter(QObject* watched, QEvent* event) {
    if (watched == question_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        const bool enter = key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter;
        if (enter && !(key->modifiers() & Qt::ShiftModifier)) {
            submit();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace hip::ui
