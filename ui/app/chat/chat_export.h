#pragma once
// A chat as a Markdown document a person can keep or share: each question and answer, and under
// each answer the pages it drew on with their passages.

#include "chat/chat_message.h"

#include <QString>

#include <vector>

namespace hip::ui {

QString chatToMarkdown(const QString& documentTitle, const std::vector<ChatMessage>& messages);

} // namespace hip::ui
