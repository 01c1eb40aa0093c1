#pragma once
// One message of a chat about a document, as it is shown, saved and exported.

#include <QDateTime>
#include <QMetaType>
#include <QString>

#include <cstdint>
#include <vector>

namespace hip::ui {

// A place in the document an answer attended to.
struct ChatSource {
    int page = -1;
    QString label;          // the page's label, as the document names it
    QString quote;          // the passage, shortened
    double weight = 0;      // share of the answer's attention on the document, 0..1
    uint64_t textBegin = 0; // bytes of the document text, to highlight the passage
    uint64_t textEnd = 0;

    friend bool operator==(const ChatSource&, const ChatSource&) = default;
};

struct ChatMessage {
    enum class Role { User, Assistant };
    Role role = Role::User;
    QString text; // Markdown for answers
    QDateTime time;
    std::vector<ChatSource> sources; // answers only, heaviest first
    QString note;           // how an answer ended when not normally ("stopped", "token limit")
    bool streaming = false; // the answer is still being written (never saved so)

    friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

} // namespace hip::ui

Q_DECLARE_METATYPE(hip::ui::ChatSource)
