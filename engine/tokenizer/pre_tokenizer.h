#pragma once
// The pre-tokenizers of byte-level BPE models: the regex splits named by tokenizer.ggml.pre,
// implemented as hand-written scanners over code points (no regex engine).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace hip::tok {

enum class PreTokenizerPreset {
    Gpt2,   // the classic GPT-2 regex
    SmolLm, // every \p{N} isolated, then the GPT-2 regex
    Llama3, // the Llama 3 regex: case-insensitive contractions, numbers in groups of up to 3
    Qwen2,  // the Llama 3 regex with single digits
};

// The preset for a tokenizer.ggml.pre value (aliases as llama.cpp groups them); nullopt when
// the name is unknown.
std::optional<PreTokenizerPreset> preTokenizerPresetFromName(std::string_view name);

// Splits `text` into pieces that BPE merges never cross. Appends the end byte offset (relative
// to `text`) of each piece; the pieces cover the text in order, without gaps.
void preTokenize(PreTokenizerPreset preset, std::string_view text,
                 std::vector<uint32_t>& pieceEnds);

} // namespace hip::tok
