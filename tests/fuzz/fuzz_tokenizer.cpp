// Both tokenizers (byte-level BPE with two pre-tokenizer presets, SentencePiece): encode arbitrary
// bytes with and without special-token parsing, check the spans, and decode the result and
// arbitrary ids (valid or not) at once and through the streaming decoder.
//
// Input: byte 0 picks the tokenizer (low bits) and the options (bit 2: parse special tokens,
// bit 3: add BOS/EOS, bit 4: render special tokens); the rest is the text, and also read as ids.

#include "fuzz_target.h"

#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

std::unique_ptr<hip::tok::Tokenizer> loadTokenizer(const char* fileName) {
    auto file = hip::gguf::GgufFile::open(std::string(HIPREADER_TEST_DATA) + "/" + fileName);
    if (!file) std::abort();
    auto spec = hip::tok::tokenizerSpecFromGguf(*file);
    if (!spec) std::abort();
    auto tokenizer = hip::tok::Tokenizer::create(*spec);
    if (!tokenizer) std::abort();
    return std::move(*tokenizer);
}

const hip::tok::Tokenizer& tokenizer(uint8_t choice) {
    static const std::unique_ptr<hip::tok::Tokenizer> tokenizers[] = {
        loadTokenizer("tokenizer_qwen2.gguf"), loadTokenizer("tokenizer_llama_bpe.gguf"),
        loadTokenizer("tokenizer_spm.gguf")};
    return *tokenizers[choice % 3];
}

void decodeBothWays(const hip::tok::Tokenizer& t, std::span<const int32_t> ids, bool special) {
    (void)t.decode(ids, special);
    hip::tok::StreamingDecoder stream(t, special);
    for (int32_t id : ids)
        (void)stream.push(id);
    (void)stream.flush();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t control = data[0];
    const hip::tok::Tokenizer& t = tokenizer(control & 3);
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool renderSpecial = control & 16;

    hip::tok::EncodeOptions options;
    options.parseSpecial = control & 4;
    options.addSpecial = control & 8;
    const hip::tok::Encoding encoding = t.encode(text, options);
    if (encoding.ids.size() != encoding.spans.size()) std::abort();
    uint32_t previousEnd = 0;
    for (size_t i = 0; i < encoding.ids.size(); ++i) {
        const hip::tok::TokenSpan span = encoding.spans[i];
        if (encoding.ids[i] < 0 || encoding.ids[i] >= t.vocabSize()) std::abort();
        if (span.begin > span.end || span.end > text.size() || span.begin < previousEnd)
            std::abort();
        previousEnd = span.end;
    }
    decodeBothWays(t, encoding.ids, renderSpecial);

    std::vector<int32_t> ids((size - 1) / sizeof(int32_t));
    if (!ids.empty()) std::memcpy(ids.data(), data + 1, ids.size() * sizeof(int32_t));
    decodeBothWays(t, ids, renderSpecial);
    return 0;
}
