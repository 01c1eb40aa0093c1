#pragma once
// Tokenizers of GGUF models: byte-level BPE (tokenizer.ggml.model = "gpt2") and SentencePiece
// (tokenizer.ggml.model = "llama", through libsentencepiece). Every token knows the byte range of
// the input text it came from, which is what citations map back to pages. A Tokenizer is
// immutable once created: encode and decode may run on several threads at once.

#include "hip/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hip::gguf {
class GgufFile;
}

namespace hip::tok {

class SpecialTokenMatcher;

using TokenId = int32_t;

enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// Everything a tokenizer is built from; filled from GGUF metadata or by tests.
struct TokenizerSpec {
    std::string model;               // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    std::string pre;                 // BPE pre-tokenizer preset: smollm, llama-bpe, qwen2, gpt2...
    std::vector<std::string> tokens; // id -> token text
    std::vector<float> scores;       // SentencePiece merge priorities (may be empty for BPE)
    std::vector<TokenType> types;    // may be empty: all Normal
    std::vector<std::string> merges; // BPE merges "left right", index = rank
    TokenId bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
    std::optional<bool> addBos, addEos, addSpacePrefix;
    std::string sentencePieceModelFile; // optional tokenizer.model to load instead of the arrays
};

Result<TokenizerSpec> tokenizerSpecFromGguf(const gguf::GgufFile& file);

// Byte range [begin, end) of the input UTF-8 text that a token covers.
struct TokenSpan {
    uint32_t begin = 0;
    uint32_t end = 0;
};

struct Encoding {
    std::vector<TokenId> ids;
    std::vector<TokenSpan> spans; // one per id; added BOS/EOS get an empty span at 0 / text end
};

struct EncodeOptions {
    bool addSpecial = true;    // add BOS/EOS as the model's rules say
    bool parseSpecial = false; // turn the literal text of control tokens into those tokens
};

class Tokenizer {
public:
    // Builds the tokenizer the spec's model names. Problems a caller can act on (a missing
    // tokenizer.ggml.pre, merges naming unknown tokens) are reported in warnings().
    static Result<std::unique_ptr<Tokenizer>> create(const TokenizerSpec& spec);
    virtual ~Tokenizer();

    // Cuts the text at special tokens, adds BOS/EOS as asked, and runs the model's tokenizer on
    // the rest. Spans cover the input in order: each token's byte range, the literal text of a
    // special token, an empty range for an added BOS/EOS. The only gaps are bytes a byte-level
    // vocabulary has no token for, which are dropped. Texts are limited to 4 GiB.
    Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;

    // The bytes a token stands for (may be part of a UTF-8 sequence). Control and unknown tokens
    // render their text only when `renderSpecial`.
    virtual std::string tokenBytes(TokenId id, bool renderSpecial = false) const = 0;
    // The token's bytes as they appear in a decoded text. `atTextStart` is true until a token
    // has contributed bytes (this call clears it); at the start SentencePiece drops the space
    // its dummy prefix added.
    std::string decodePiece(TokenId id, bool& atTextStart, bool renderSpecial = false) const;
    // The tokens' bytes, unchanged: invalid UTF-8 stays as it is (see StreamingDecoder).
    std::string decode(std::span<const TokenId> ids, bool renderSpecial = false) const;

    int32_t vocabSize() const { return static_cast<int32_t>(spec_.tokens.size()); }
    const std::string& tokenText(TokenId id) const { return spec_.tokens.at(id); }
    TokenType tokenType(TokenId id) const;
    std::optional<TokenId> findToken(std::string_view text) const;
    TokenId bos() const { return spec_.bos; }
    TokenId eos() const { return spec_.eos; }
    bool addsBos() const; // encode with addSpecial prepends BOS
    bool addsEos() const; // encode with addSpecial appends EOS
    // End-of-generation: eos, eot, eom and every token whose text is a known end-of-turn marker.
    bool isEndOfGeneration(TokenId id) const;
    const std::vector<TokenId>& endOfGenerationTokens() const { return endOfGeneration_; }
    const TokenizerSpec& spec() const { return spec_; }
    const std::vector<std::string>& warnings() const { return warnings_; }

protected:
    // `userDefinedInModel`: the model's own tokenizer handles user-defined tokens (SentencePiece
    // does), so the front end leaves them in the text.
    Tokenizer(TokenizerSpec spec, bool defaultAddBos, bool userDefinedInModel);
    // Sizes of the arrays and special ids against the vocabulary (negative ids mean none).
    static Status validate(const TokenizerSpec& spec);

    // Encodes text that holds no special tokens; `offset` is its position in the input, for
    // the spans. Appends to `out`.
    virtual void encodeText(std::string_view text, uint32_t offset, Encoding& out) const = 0;
    virtual bool dropsSpaceAtTextStart(TokenId) const { return false; }

    TokenizerSpec spec_;
    std::vector<TokenId> endOfGeneration_;
    std::vector<std::string> warnings_;

private:
    bool defaultAddBos_;
    std::unordered_map<std::string_view, TokenId> idsByText_;
    std::unique_ptr<SpecialTokenMatcher> userDefinedMatcher_; // always applied
    std::unique_ptr<SpecialTokenMatcher> specialMatcher_;     // parseSpecial: control, unknown too
};

// Turns a stream of token ids into valid UTF-8: bytes of an incomplete sequence are held back
// until the rest arrives; invalid sequences become U+FFFD.
class StreamingDecoder {
public:
    explicit StreamingDecoder(const Tokenizer& tokenizer, bool renderSpecial = false);
    std::string push(TokenId id);
    std::string flush(); // whatever is held back, invalid bytes replaced

private:
    const Tokenizer& tokenizer_;
    bool renderSpecial_;
    std::string pending_;
    bool atTextStart_ = true;
};

} // namespace hip::tok
