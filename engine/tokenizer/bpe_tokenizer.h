#pragma once
// Byte-level BPE (tokenizer.ggml.model = "gpt2": Llama 3, Qwen2, SmolLM2): pre-tokenizer regex,
// then merges by rank over the bytes of each piece, written in GPT-2's byte alphabet.

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

#include <array>
#include <unordered_map>

namespace hip::tok {

class BpeTokenizer final : public Tokenizer {
public:
    static Result<std::unique_ptr<Tokenizer>> create(const TokenizerSpec& spec);

    std::string tokenBytes(TokenId id, bool renderSpecial = false) const override;

private:
    struct Merge {
        int32_t rank;
        TokenId result;
    };
    // A token of a piece: its id and how many of the piece's bytes it covers.
    struct PieceToken {
        TokenId id;
        uint32_t length;
    };
    class Workspace;

    BpeTokenizer(TokenizerSpec spec, PreTokenizerPreset preset, bool llama3Rules);
    Status loadMerges();

    void encodeText(std::string_view text, uint32_t offset, Encoding& out) const override;
    // Appends the tokens of one pre-tokenized piece.
    void encodePiece(std::string_view piece, Workspace& workspace,
                     std::vector<PieceToken>& out) const;
    static uint64_t pairKey(TokenId left, TokenId right) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
               static_cast<uint32_t>(right);
    }

    PreTokenizerPreset preset_;
    bool ignoreMerges_; // Llama 3: a piece that is a whole token is not merged from its bytes
    std::array<TokenId, 256> byteTokens_{};      // the one-character token of each byte, or -1
    std::unordered_map<uint64_t, Merge> merges_; // by pairKey(left, right)
    std::vector<std::string> decodedTokens_;     // the bytes of each token
};

} // namespace hip::tok
