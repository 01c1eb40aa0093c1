#pragma once
// Pieces of streamed text gathered into one `text` signal at most every kIntervalMs, so a fast
// model does not repaint the chat for every token.

#include <QObject>
#include <QString>
#include <QTimer>

namespace hip::ui {

class TextCoalescer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TextCoalescer)

public:
    static constexpr int kIntervalMs = 40;

    explicit TextCoalescer(QObject* parent = nullptr);

    void append(const QString& piece);
    // Emits what is pending at once (before the answer's end is reported).
    void flush();
    void clear();

signals:
    void text(const QString& text);

private:
    QString pending_;
    QTimer timer_;
};

} // namespace hip::ui
