#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

#include <array>
#include <utility>

namespace hip::tok {
namespace {

using Class = CodepointClass;

struct Char {
    char32_t cp;
    uint32_t byte; // offset of the first byte in the text
    Class cls;
};

// The text as code points, plus a sentinel whose offset is the text size. Bytes that are not
// UTF-8 become one Other character each, so every byte still lands in some piece.
std::vector<Char> decodeChars(std::string_view text) {
    std::vector<Char> chars;
    chars.reserve(text.size() + 1);
    for (size_t pos = 0; pos < text.size();) {
        const auto byte = static_cast<uint8_t>(text[pos]);
        if (byte < 0x80) {
            chars.push_back({byte, static_cast<uint32_t>(pos), classifyCodepoint(byte)});
            ++pos;
            continue;
        }
        const utf8::Sequence seq = utf8::examine(text, pos);
        if (seq.state == utf8::SequenceState::Complete) {
            chars.push_back(
                {seq.codepoint, static_cast<uint32_t>(pos), classifyCodepoint(seq.codepoint)});
            pos += seq.length;
        } else {
            chars.push_back({0xFFFD, static_cast<uint32_t>(pos), Class::Other});
            ++pos;
        }
    }
    chars.push_back({0, static_cast<uint32_t>(text.size()), Class::Other});
    return chars;
}

// Scans one regex over the characters [begin, end) of a segment; `end` acts as the end of the
// text for lookaheads, as when a previous regex in a sequence has cut the text there.
class Scanner {
public:
    explicit Scanner(const std::vector<Char>& chars) : c_(chars) {}

    // Each `match...` returns the end of the regex match that starts at i (always > i).

    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    size_t matchGpt2(size_t i, size_t end) const {
        if (size_t e = matchContraction(i, end, false)) return e;
        const size_t j = (c_[i].cp == ' ' && i + 1 < end) ? i + 1 : i;
        if (c_[j].cls != Class::Whitespace) return runOf(c_[j].cls, j, end);
        return matchTrailingWhitespace(i, end);
    }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}
    //  | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    size_t matchLlama3(size_t i, size_t end, size_t maxDigits) const {
        if (size_t e = matchContraction(i, end, true)) return e;
        const Class cls = c_[i].cls;
        if (cls == Class::Letter) return runOf(Class::Letter, i, end);
        if (cls != Class::Number && !isLineBreak(c_[i].cp) && i + 1 < end &&
            c_[i + 1].cls == Class::Letter)
            return runOf(Class::Letter, i + 1, end);
        if (cls == Class::Number) {
            size_t e = i;
            while (e < end && e - i < maxDigits && c_[e].cls == Class::Number)
                ++e;
            return e;
        }
        const size_t j = (c_[i].cp == ' ' && i + 1 < end) ? i + 1 : i;
        if (c_[j].cls == Class::Other) {
            size_t e = runOf(Class::Other, j, end);
            while (e < end && isLineBreak(c_[e].cp))
                ++e;
            return e;
        }
        // c_[i] is whitespace. \s*[\r\n]+ ends just after the run's last line break.
        const size_t runEnd = runOf(Class::Whitespace, i, end);
        for (size_t k = runEnd; k > i; --k)
            if (isLineBreak(c_[k - 1].cp)) return k;
        return matchTrailingWhitespace(i, end);
    }

private:
    static bool isLineBreak(char32_t cp) { return cp == '\r' || cp == '\n'; }

    size_t runOf(Class cls, size_t i, size_t end) const {
        while (i < end && c_[i].cls == cls)
            ++i;
        return i;
    }

    // 's 't 're 've 'm 'll 'd; 0 when there is none at i.
    size_t matchContraction(size_t i, size_t end, bool anyCase) const {
        if (c_[i].cp != '\'' || i + 1 >= end) return 0;
        auto letter = [&](size_t k) -> char32_t {
            const char32_t cp = c_[k].cp;
            return (anyCase && cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
        };
        const char32_t a = letter(i + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if (i + 2 >= end) return 0;
        const char32_t b = letter(i + 2);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return i + 3;
        return 0;
    }

    // \s+(?!\S)|\s+ at a whitespace character: a run followed by a non-space gives its last
    // character to the next piece (so " word" keeps its space), unless the run is that one.
    size_t matchTrailingWhitespace(size_t i, size_t end) const {
        const size_t runEnd = runOf(Class::Whitespace, i, end);
        if (runEnd == end || runEnd - i == 1) return runEnd;
        return runEnd - 1;
    }

    const std::vector<Char>& c_;
};

} // namespace

std::optional<PreTokenizerPreset> preTokenizerPresetFromName(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, PreTokenizerPreset>, 14> kNames = {{
        {"gpt2", PreTokenizerPreset::Gpt2},
        {"default", PreTokenizerPreset::Gpt2},
        {"smollm", PreTokenizerPreset::SmolLm},
        {"starcoder", PreTokenizerPreset::SmolLm},
        {"refact", PreTokenizerPreset::SmolLm},
        {"command-r", PreTokenizerPreset::SmolLm},
        {"llama-bpe", PreTokenizerPreset::Llama3},
        {"llama3", PreTokenizerPreset::Llama3},
        {"llama-v3", PreTokenizerPreset::Llama3},
        {"falcon3", PreTokenizerPreset::Llama3},
        {"qwen2", PreTokenizerPreset::Qwen2},
        {"deepseek-r1-qwen", PreTokenizerPreset::Qwen2},
        {"megrez", PreTokenizerPreset::Qwen2},
        {"stablelm2", PreTokenizerPreset::Qwen2},
    }};
    for (const auto& [known, preset] : kNames)
        if (known == name) return preset;
    return std::nullopt;
}

void preTokenize(PreTokenizerPreset preset, std::string_view text,
                 std::vector<uint32_t>& pieceEnds) {
    const std::vector<Char> chars = decodeChars(text);
    const size_t count = chars.size() - 1;
    const Scanner scanner(chars);
    const size_t maxDigits = preset == PreTokenizerPreset::Llama3 ? 3 : 1;

    // Splits the characters [begin, end) with the preset's main regex.
    auto splitSegment = [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end;) {
            if (preset == PreTokenizerPreset::Llama3 || preset == PreTokenizerPreset::Qwen2)
                i = scanner.matchLlama3(i, end, maxDigits);
            else
                i = scanner.matchGpt2(i, end);
            pieceEnds.push_back(chars[i].byte);
        }
    };

    if (preset != PreTokenizerPreset::SmolLm) {
        splitSegment(0, count);
        return;
    }
    // SmolLM: isolate every number character first, then split the text between them.
    for (size_t i = 0; i < count;) {
        if (chars[i].cls == Class::Number) {
            pieceEnds.push_back(chars[++i].byte);
            continue;
        }
        size_t segmentEnd = i;
        while (segmentEnd < count && chars[segmentEnd].cls != Class::Number)
            ++segmentEnd;
        splitSegment(i, segmentEnd);
        i = segmentEnd;
    }
}

} // namespace hip::tok
