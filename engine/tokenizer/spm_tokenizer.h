#pragma once
// SentencePiece BPE (tokenizer.ggml.model = "llama": Llama 1/2, Mistral, TinyLlama) through
// libsentencepiece, loaded from a model synthesized from the GGUF arrays or from a
// tokenizer.model file. Every text fragment gets the dummy-prefix space (as in llama.cpp);
// sentencepiece matches user-defined tokens itself; invalid UTF-8 becomes U+FFFD.

#include "tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace hip::tok {

class SpmTokenizer final : public Tokenizer {
public:
    static Result<std::unique_ptr<Tokenizer>> create(const TokenizerSpec& spec);
    ~SpmTokenizer() override;

    std::string tokenBytes(TokenId id, bool renderSpecial = false) const override;

private:
    SpmTokenizer(TokenizerSpec spec,
                 std::unique_ptr<sentencepiece::SentencePieceProcessor> processor);

    void encodeText(std::string_view text, uint32_t offset, Encoding& out) const override;
    void splitByteFallbackSpans(Encoding& out, size_t first) const;
    bool dropsSpaceAtTextStart(TokenId id) const override;

    std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
    bool addsSpacePrefix_;
    std::vector<std::string> decodedTokens_; // the bytes of each normal, user-defined or byte token
};

} // namespace hip::tok
