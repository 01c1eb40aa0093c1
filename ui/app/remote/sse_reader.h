#pragma once
// Server-sent events (the text/event-stream format of the HTML standard) read from a stream that
// arrives in pieces of any size: the data of each complete event, in order. Only `data` fields
// matter to OpenAI's streaming; comments and other fields are skipped.

#include <QByteArray>
#include <QList>

namespace hip::ui {

class SseReader {
public:
    // Takes the next bytes; returns the data of the events they complete.
    QList<QByteArray> feed(const QByteArray& bytes);
    // Bytes of an event not ended yet (a stream cut off mid-event leaves some).
    bool hasPartialEvent() const { return !pending_.isEmpty() || hasData_; }

private:
    QByteArray pending_; // a line not ended yet
    QByteArray data_;    // the data lines of the event being read, joined by '\n'
    bool hasData_ = false;
    bool lastWasCr_ = false; // a '\r' ended the last line: a '\n' right after it is part of it
};

} // namespace hip::ui
