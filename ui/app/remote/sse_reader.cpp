#include "remote/sse_reader.h"

#include <utility>

namespace hip::ui {

QList<QByteArray> SseReader::feed(const QByteArray& bytes) {
    QList<QByteArray> events;
    for (const char c : bytes) {
        if (c == '\n' && lastWasCr_) {
            lastWasCr_ = false;
            continue;
        }
        lastWasCr_ = c == '\r';
        if (c != '\n' && c != '\r') {
            pending_ += c;
            continue;
        }
        // A whole line: "field: value", "field:value" or "field"; an empty line ends the event.
        const QByteArray line = std::exchange(pending_, QByteArray());
        if (line.isEmpty()) {
            if (hasData_) events.append(std::exchange(data_, QByteArray()));
            hasData_ = false;
            continue;
        }
        if (line.startsWith(':')) continue; // a comment (keep-alive)
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        if (field != "data") continue;
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' ')) value.remove(0, 1);
        if (hasData_) data_ += '\n';
        data_ += value;
        hasData_ = true;
    }
    return events;
}

} // namespace hip::ui
