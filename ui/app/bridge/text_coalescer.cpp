#include "bridge/text_coalescer.h"

#include <utility>

namespace hip::ui {

TextCoalescer::TextCoalescer(QObject* parent) : QObject(parent) {
    timer_.setSingleShot(true);
    timer_.setInterval(kIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &TextCoalescer::flush);
}

void TextCoalescer::append(const QString& piece) {
    pending_ += piece;
    if (!timer_.isActive()) timer_.start();
}

void TextCoalescer::flush() {
    timer_.stop();
    if (pending_.isEmpty()) return;
    emit text(std::exchange(pending_, QString()));
}

void TextCoalescer::clear() {
    timer_.stop();
    pending_.clear();
}

} // namespace hip::ui
