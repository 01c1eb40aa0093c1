#include "main_window/context_meter.h"

#include "common/formatting.h"
#include "common/theme.h"

#include <QPainter>

namespace hip::ui {

ContextMeter::ContextMeter(QWidget* parent) : QWidget(parent) {
    setAccessibleName(tr("Context used by the book"));
    setFocusPolicy(Qt::TabFocus);
}

QSize ContextMeter::sizeHint() const {
    return {fontMetrics().horizontalAdvance(QStringLiteral("000,000 / 0,000,000 tokens (100%)")) +
                90,
            fontMetrics().height() + 4};
}

void ContextMeter::setContext(qint64 capacity, qint64 documentTokens, qint64 readTokens) {
    capacity_ = capacity;
    document_ = documentTokens;
    read_ = readTokens;
    setToolTip(accessibleSummary());
    update();
    announceSummaryChanged(this);
}

QString ContextMeter::label() const {
    if (capacity_ <= 0) return tr("no model");
    if (document_ < 0) return tr("context %1 tokens").arg(formatCount(capacity_));
    return tr("%1 / %2 tokens").arg(formatCount(document_), formatCount(capacity_));
}

QString ContextMeter::accessibleSummary() const {
    if (capacity_ <= 0) return tr("No model is loaded.");
    if (document_ < 0)
        return tr("The model's context holds %1 tokens.").arg(formatCount(capacity_));
    QString text = tr("The book is %1 tokens; the model's context holds %2 (%3%).")
                       .arg(formatCount(document_), formatCount(capacity_))
                       .arg(qRound(100.0 * double(document_) / double(capacity_)));
    if (read_ > 0 && read_ < document_)
        text +=
            tr(" Only %1 tokens of it were read: the rest does not fit.").arg(formatCount(read_));
    else if (document_ > capacity_)
        text += tr(" It does not fit whole.");
    return text;
}

void ContextMeter::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const int barWidth = 80;
    const QRectF bar(1, (height() - 10) / 2.0, barWidth, 10);
    painter.setPen(QPen(pal.color(QPalette::Mid), 1));
    painter.setBrush(isDarkPalette(pal) ? pal.color(QPalette::Base).lighter(150)
                                        : pal.color(QPalette::Base));
    painter.drawRoundedRect(bar, 3, 3);
    if (capacity_ > 0 && document_ > 0) {
        const double used =
            std::min(1.0, double(read_ > 0 ? read_ : document_) / double(capacity_));
        const bool overflow = document_ > capacity_ || (read_ > 0 && read_ < document_);
        const QColor fill = overflow ? QColor(213, 94, 0) : pal.color(QPalette::Highlight);
        painter.setPen(Qt::NoPen);
        painter.setBrush(fill);
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * used, bar.height()), 3,
                                3);
    }
    painter.setPen(pal.color(QPalette::WindowText));
    painter.drawText(QRectF(barWidth + 6, 0, width() - barWidth - 6, height()),
                     Qt::AlignVCenter | Qt::AlignLeft, label());
}

} // namespace hip::ui
