// Chat templates: recognising a Jinja template of arbitrary text, and rendering arbitrary
// messages (any role, any bytes) in every format, with and without the generation prompt.
//
// Input: byte 0 picks the format and the generation prompt; the rest is split at NUL bytes into
// messages, whose first byte picks the role. A part starting with 'J' is a Jinja template to
// detect instead.

#include "fuzz_target.h"

#include "tokenizer/chat_template.h"

#include <string_view>

namespace {

const char* const kRoles[] = {"system", "user", "assistant", "tool", ""};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t control = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    std::vector<hip::tok::ChatMessage> messages;
    std::string warning;
    hip::tok::ChatTemplate chatTemplate = hip::tok::ChatTemplate::ofFormat(
        static_cast<hip::tok::ChatFormat>(control % 4), control & 4 ? "Be brief." : "");
    while (!rest.empty()) {
        const size_t end = rest.find('\0');
        const std::string_view part = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        if (part.empty()) continue;
        if (part.front() == 'J') {
            chatTemplate = hip::tok::ChatTemplate::detect(std::string(part.substr(1)), &warning);
            continue;
        }
        const auto role = static_cast<uint8_t>(part.front()) % std::size(kRoles);
        messages.push_back({kRoles[role], std::string(part.substr(1))});
    }
    (void)chatTemplate.formatName();
    (void)chatTemplate.render(messages, control & 8);
    return 0;
}
