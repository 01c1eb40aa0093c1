#include "chat/message_widget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QToolButton>
#include <QVBoxLayout>

namespace hip::ui {
namespace {

constexpr int kChips = 4; // source buttons under an answer; the list shows them all

} // namespace

MessageWidget::MessageWidget(QWidget* parent)
    : QFrame(parent), header_(new QLabel(this)), body_(new QLabel(this)), note_(new QLabel(this)),
      sourceRow_(new QWidget(this)), sourceLayout_(new QHBoxLayout(sourceRow_)),
      copy_(new QToolButton(this)), regenerate_(new QToolButton(this)) {
    setFrameShape(QFrame::StyledPanel);
    setFocusPolicy(Qt::TabFocus);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(4);

    auto* top = new QHBoxLayout;
    QFont bold = header_->font();
    bold.setBold(true);
    header_->setFont(bold);
    top->addWidget(header_, 1);
    for (auto [button, icon, text] :
         {std::tuple{copy_, QStringLiteral("edit-copy"), tr("Copy")},
          std::tuple{regenerate_, QStringLiteral("view-refresh"), tr("Regenerate")}}) {
        button->setIcon(QIcon::fromTheme(icon, QIcon(QStringLiteral(":/icons/%1.svg").arg(icon))));
        button->setToolTip(text);
        button->setAccessibleName(text);
        button->setAutoRaise(true);
        top->addWidget(button);
    }
    regenerate_->setVisible(false);
    layout->addLayout(top);

    body_->setWordWrap(true);
    body_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard |
                                   Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    body_->setOpenExternalLinks(false);
    body_->setFocusPolicy(Qt::StrongFocus);
    layout->addWidget(body_);

    note_->setWordWrap(true);
    note_->setVisible(false);
    QPalette muted = note_->palette();
    muted.setColor(QPalette::WindowText, muted.color(QPalette::PlaceholderText));
    note_->setPalette(muted);
    layout->addWidget(note_);

    sourceLayout_->setContentsMargins(0, 0, 0, 0);
    sourceLayout_->setSpacing(4);
    sourceRow_->setVisible(false);
    layout->addWidget(sourceRow_);

    connect(copy_, &QToolButton::clicked, this, [this] { emit copyRequested(text_); });
    connect(regenerate_, &QToolButton::clicked, this, &MessageWidget::regenerateRequested);
}

void MessageWidget::setMessage(const ChatMessage& message) {
    isAnswer_ = message.role == ChatMessage::Role::Assistant;
    const QString who = isAnswer_ ? tr("Answer") : tr("You");
    const QString when = QLocale().toString(message.time.time(), QLocale::ShortFormat);
    header_->setText(message.streaming ? tr("%1 (writing…)").arg(who)
                                       : QStringLiteral("%1 · %2").arg(who, when));
    if (message.text != text_ || body_->text().isEmpty()) {
        text_ = message.text;
        // Answers are Markdown; questions are shown as typed.
        body_->setTextFormat(isAnswer_ ? Qt::MarkdownText : Qt::PlainText);
        body_->setText(text_.isEmpty() && message.streaming ? tr("…") : text_);
    }
    body_->setAccessibleName(who);
    setAccessibleName(tr("%1: %2").arg(who, text_.left(200)));
    note_->setText(message.note.isEmpty() ? QString() : tr("(%1)").arg(message.note));
    note_->setVisible(!message.note.isEmpty());
    copy_->setVisible(!message.streaming);
    setSources(message.sources);
    setBackgroundRole(isAnswer_ ? QPalette::Base : QPalette::AlternateBase);
    setAutoFillBackground(true);
}

void MessageWidget::setRegenerateVisible(bool visible) {
    regenerate_->setVisible(visible && isAnswer_);
}

void MessageWidget::setSources(const std::vector<ChatSource>& sources) {
    if (sources == sources_) return;
    sources_ = sources;
    while (QLayoutItem* item = sourceLayout_->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    sourceRow_->setVisible(!sources_.empty());
    if (sources_.empty()) return;
    auto* label = new QLabel(tr("Sources:"), sourceRow_);
    sourceLayout_->addWidget(label);
    for (size_t i = 0; i < sources_.size() && i < size_t(kChips); ++i) {
        const ChatSource source = sources_[i];
        auto* chip = new QToolButton(sourceRow_);
        const QString page =
            source.label.isEmpty() ? QString::number(source.page + 1) : source.label;
        chip->setText(tr("p. %1").arg(page));
        chip->setToolTip(tr("Page %1 (%2% of the attention): %3")
                             .arg(page)
                             .arg(qRound(source.weight * 100))
                             .arg(source.quote));
        chip->setAccessibleName(tr("Source: page %1").arg(page));
        connect(chip, &QToolButton::clicked, this, [this, source] {
            emit sourcesShown(sources_);
            emit sourceActivated(source);
        });
        sourceLayout_->addWidget(chip);
    }
    sourceLayout_->addStretch(1);
}

} // namespace hip::ui
