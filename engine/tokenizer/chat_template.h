#pragma once
// Chat prompt formats, chosen from the GGUF's tokenizer.chat_template (a Jinja text we recognise
// by its markers rather than execute).

#include <string>
#include <vector>

namespace hip::tok {

struct ChatMessage {
    std::string role; // "system", "user" or "assistant"
    std::string content;
};

enum class ChatFormat { ChatML, Llama3, Llama2, Gemma };

class ChatTemplate {
public:
    // Recognises the format of a Jinja chat template. An empty or unknown template yields ChatML
    // and a warning in `warning`.
    static ChatTemplate detect(const std::string& jinja, std::string* warning = nullptr);
    static ChatTemplate ofFormat(ChatFormat format, std::string defaultSystemPrompt = {});

    ChatFormat format() const { return format_; }
    std::string formatName() const;
    // The system prompt the template injects when the conversation has none (SmolLM2, Qwen2.5).
    const std::string& defaultSystemPrompt() const { return defaultSystemPrompt_; }

    // The prompt text, to be tokenized with parseSpecial = true and addSpecial = true (the
    // tokenizer adds BOS where the model wants it, so the text does not start with one).
    std::string render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const;

private:
    ChatFormat format_ = ChatFormat::ChatML;
    std::string defaultSystemPrompt_;
};

} // namespace hip::tok
