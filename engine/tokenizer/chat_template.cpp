#include "tokenizer/chat_template.h"

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

#include <array>
#include <utility>

namespace hip::tok {
namespace {

constexpr std::string_view kChatMlSystemStart = "<|im_start|>system";
constexpr std::string_view kChatMlEnd = "<|im_end|>";

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// Python's str.isspace(), which Jinja's trim filter and str.strip() use: \s plus U+001C..1F.
bool isPythonSpace(char32_t cp) {
    return (cp >= 0x1C && cp <= 0x1F) || classifyCodepoint(cp) == CodepointClass::Whitespace;
}

std::string trim(std::string_view text) {
    size_t begin = 0;
    while (begin < text.size()) {
        const utf8::Sequence seq = utf8::examine(text, begin);
        if (seq.state != utf8::SequenceState::Complete || !isPythonSpace(seq.codepoint)) break;
        begin += seq.length;
    }
    size_t end = begin; // one past the last non-space character
    for (size_t pos = begin; pos < text.size();) {
        const utf8::Sequence seq = utf8::examine(text, pos);
        pos += seq.length;
        if (seq.state != utf8::SequenceState::Complete || !isPythonSpace(seq.codepoint)) end = pos;
    }
    return std::string(text.substr(begin, end - begin));
}

// The value of a Jinja string literal's body: Python-style backslash escapes resolved.
std::string unescapeJinjaString(std::string_view body) {
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] != '\\' || i + 1 == body.size()) {
            out.push_back(body[i]);
            continue;
        }
        switch (const char next = body[++i]) {
        case 'n':
            out.push_back('\n');
            break;
        case 't':
            out.push_back('\t');
            break;
        case 'r':
            out.push_back('\r');
            break;
        default:
            out.push_back(next);
            break; // \\ \' \"
        }
    }
    return out;
}

// The system prompt a ChatML template writes when the conversation has none: the literal text
// of a string like '<|im_start|>system\nYou are ...<|im_end|>\n'. Occurrences whose text holds
// Jinja code (the template inserting the caller's system message) are not literals.
std::string findDefaultSystemPrompt(std::string_view jinja) {
    for (size_t at = jinja.find(kChatMlSystemStart); at != std::string_view::npos;
         at = jinja.find(kChatMlSystemStart, at + 1)) {
        if (at == 0) continue;
        const char quote = jinja[at - 1];
        if (quote != '\'' && quote != '"') continue;
        size_t begin = at + kChatMlSystemStart.size();
        if (jinja.substr(begin).starts_with("\n"))
            begin += 1;
        else if (jinja.substr(begin).starts_with("\\n"))
            begin += 2;
        else
            continue;
        const size_t end = jinja.find(kChatMlEnd, begin);
        if (end == std::string_view::npos) continue;
        const std::string_view body = jinja.substr(begin, end - begin);
        bool isLiteral = !contains(body, "{{") && !contains(body, "{%");
        for (size_t i = 0; isLiteral && i < body.size(); ++i) {
            if (body[i] == '\\')
                ++i;
            else if (body[i] == quote)
                isLiteral = false;
        }
        if (isLiteral) return unescapeJinjaString(body);
    }
    return {};
}

bool isSystem(const ChatMessage& message) {
    return message.role == "system";
}

std::string renderChatMl(const std::vector<ChatMessage>& messages, const std::string& defaultSystem,
                         bool addGenerationPrompt) {
    std::string out;
    if (!messages.empty() && !isSystem(messages.front()) && !defaultSystem.empty())
        out += "<|im_start|>system\n" + defaultSystem + "<|im_end|>\n";
    for (const ChatMessage& message : messages)
        out += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n";
    if (addGenerationPrompt) out += "<|im_start|>assistant\n";
    return out;
}

// The Llama 3 Instruct template without its leading <|begin_of_text|> (the tokenizer adds BOS).
std::string renderLlama3(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) {
    std::string out;
    for (const ChatMessage& message : messages)
        out += "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n" +
               trim(message.content) + "<|eot_id|>";
    if (addGenerationPrompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
}

// The Llama 2 chat template: a system message goes into the first user turn inside
// <<SYS>> markers; every user turn after the first starts with a literal <s>; assistant turns
// end with </s>; other roles are dropped. It always ends after a user turn's [/INST], so there
// is no separate generation prompt.
std::string renderLlama2(const std::vector<ChatMessage>& messages) {
    const bool hasSystem = !messages.empty() && isSystem(messages.front());
    std::string out;
    for (size_t i = hasSystem ? 1 : 0, turn = 0; i < messages.size(); ++i, ++turn) {
        const ChatMessage& message = messages[i];
        std::string content = message.content;
        if (turn == 0 && hasSystem)
            content = "<<SYS>>\n" + messages.front().content + "\n<</SYS>>\n\n" + content;
        if (message.role == "user") {
            out += turn == 0 ? "" : "<s>";
            out += "[INST] ";
            out += trim(content);
            out += " [/INST]";
        } else if (message.role == "assistant") {
            out += " " + trim(content) + " </s>";
        }
    }
    return out;
}

// Gemma: no system role (its text opens the first turn), "assistant" is written "model", and
// no leading <bos> (the tokenizer adds it).
std::string renderGemma(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) {
    const bool hasSystem = !messages.empty() && isSystem(messages.front());
    const std::string firstPrefix = hasSystem ? messages.front().content + "\n\n" : std::string();
    std::string out;
    for (size_t i = hasSystem ? 1 : 0, turn = 0; i < messages.size(); ++i, ++turn) {
        const ChatMessage& message = messages[i];
        const std::string& role = message.role == "assistant" ? "model" : message.role;
        out += "<start_of_turn>" + role + "\n" + (turn == 0 ? firstPrefix : std::string()) +
               trim(message.content) + "<end_of_turn>\n";
    }
    if (addGenerationPrompt) out += "<start_of_turn>model\n";
    return out;
}

} // namespace

ChatTemplate ChatTemplate::detect(const std::string& jinja, std::string* warning) {
    if (contains(jinja, "<|im_start|>"))
        return ofFormat(ChatFormat::ChatML, findDefaultSystemPrompt(jinja));
    if (contains(jinja, "<|start_header_id|>")) return ofFormat(ChatFormat::Llama3);
    if (contains(jinja, "[INST]")) return ofFormat(ChatFormat::Llama2);
    if (contains(jinja, "<start_of_turn>")) return ofFormat(ChatFormat::Gemma);
    if (warning)
        *warning = jinja.empty()
                       ? "the model has no chat template; using ChatML"
                       : "the model's chat template is not one we recognise; using ChatML";
    return ofFormat(ChatFormat::ChatML);
}

ChatTemplate ChatTemplate::ofFormat(ChatFormat format, std::string defaultSystemPrompt) {
    ChatTemplate chat;
    chat.format_ = format;
    chat.defaultSystemPrompt_ = std::move(defaultSystemPrompt);
    return chat;
}

std::string ChatTemplate::formatName() const {
    switch (format_) {
    case ChatFormat::ChatML:
        return "chatml";
    case ChatFormat::Llama3:
        return "llama3";
    case ChatFormat::Llama2:
        return "llama2";
    case ChatFormat::Gemma:
        return "gemma";
    }
    return "chatml";
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool addGenerationPrompt) const {
    switch (format_) {
    case ChatFormat::ChatML:
        return renderChatMl(messages, defaultSystemPrompt_, addGenerationPrompt);
    case ChatFormat::Llama3:
        return renderLlama3(messages, addGenerationPrompt);
    case ChatFormat::Llama2:
        return renderLlama2(messages);
    case ChatFormat::Gemma:
        return renderGemma(messages, addGenerationPrompt);
    }
    return {};
}

} // namespace hip::tok
