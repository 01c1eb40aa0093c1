#include "tokenizer/spm_tokenizer.h"

#include "tokenizer/sentencepiece_model.h"

#include <sentencepiece_processor.h>

#include <charconv>

namespace hip::tok {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81"; // U+2581, SentencePiece's space

std::string replaceSpaceMarkers(std::string_view piece) {
    std::string text;
    text.reserve(piece.size());
    for (size_t pos = 0; pos < piece.size();) {
        if (piece.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0) {
            text.push_back(' ');
            pos += kSpaceMarker.size();
        } else {
            text.push_back(piece[pos++]);
        }
    }
    return text;
}

// "<0x0A>" -> "\n"; other texts are returned unchanged.
std::string byteTokenValue(const std::string& text) {
    unsigned value = 0;
    if (text.size() == 6 && text.starts_with("<0x") && text.ends_with(">")) {
        const auto [end, error] = std::from_chars(text.data() + 3, text.data() + 5, value, 16);
        if (error == std::errc() && end == text.data() + 5)
            return std::string(1, static_cast<char>(value));
    }
    return text;
}

// The vocabulary of a loaded tokenizer.model, for specs that name only the file.
void fillSpecFromModel(const sentencepiece::SentencePieceProcessor& processor,
                       TokenizerSpec& spec) {
    const int count = processor.GetPieceSize();
    for (int id = 0; id < count; ++id) {
        spec.tokens.push_back(processor.IdToPiece(id));
        spec.scores.push_back(processor.GetScore(id));
        TokenType type = TokenType::Normal;
        if (processor.IsUnknown(id))
            type = TokenType::Unknown;
        else if (processor.IsControl(id))
            type = TokenType::Control;
        else if (processor.IsUnused(id))
            type = TokenType::Unused;
        else if (processor.IsByte(id))
            type = TokenType::Byte;
        spec.types.push_back(type);
    }
    auto orSpec = [](TokenId fromSpec, int fromModel) {
        return fromSpec >= 0 ? fromSpec : fromModel;
    };
    spec.bos = orSpec(spec.bos, processor.bos_id());
    spec.eos = orSpec(spec.eos, processor.eos_id());
    spec.unk = orSpec(spec.unk, processor.unk_id());
    spec.pad = orSpec(spec.pad, processor.pad_id());
}

} // namespace

Result<std::unique_ptr<Tokenizer>> SpmTokenizer::create(const TokenizerSpec& specIn) {
    TokenizerSpec spec = specIn;
    auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
    if (!spec.sentencePieceModelFile.empty()) {
        const auto status = processor->Load(spec.sentencePieceModelFile);
        if (!status.ok())
            return makeError(ErrorCode::InvalidFile, "loading SentencePiece model " +
                                                         spec.sentencePieceModelFile + ": " +
                                                         status.ToString());
        if (spec.tokens.empty()) {
            fillSpecFromModel(*processor, spec);
            HIP_TRY(validate(spec));
        } else if (spec.tokens.size() != static_cast<size_t>(processor->GetPieceSize())) {
            return makeError(ErrorCode::InvalidArgument,
                             "SentencePiece model " + spec.sentencePieceModelFile + " has " +
                                 std::to_string(processor->GetPieceSize()) +
                                 " pieces but the vocabulary has " +
                                 std::to_string(spec.tokens.size()));
        }
    } else {
        auto model = serializeSentencePieceModel(spec);
        HIP_TRY(model);
        const auto status = processor->LoadFromSerializedProto(*model);
        if (!status.ok())
            return makeError(ErrorCode::InvalidArgument,
                             "the vocabulary is not a valid SentencePiece model: " +
                                 status.ToString());
    }
    return std::unique_ptr<Tokenizer>(new SpmTokenizer(std::move(spec), std::move(processor)));
}

SpmTokenizer::SpmTokenizer(TokenizerSpec spec,
                           std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
    : Tokenizer(std::move(spec), true, true), processor_(std::move(processor)),
      addsSpacePrefix_(spec_.addSpacePrefix.value_or(true)) {
    decodedTokens_.reserve(spec_.tokens.size());
    for (TokenId id = 0; id < vocabSize(); ++id) {
        const std::string& text = spec_.tokens[id];
        decodedTokens_.push_back(tokenType(id) == TokenType::Byte ? byteTokenValue(text)
                                                                  : replaceSpaceMarkers(text));
    }
}

SpmTokenizer::~SpmTokenizer() = default;

void SpmTokenizer::encodeText(std::string_view text, uint32_t offset, Encoding& out) const {
    // Encoding fails only without a loaded model, which create() rules out.
    const auto pieces = processor_->EncodeAsImmutableProto(text);
    const size_t first = out.ids.size();
    for (const auto& piece : pieces.pieces()) {
        out.ids.push_back(static_cast<TokenId>(piece.id()));
        out.spans.push_back({offset + piece.begin(), offset + piece.end()});
    }
    splitByteFallbackSpans(out, first);
}

// sentencepiece gives a byte-fallback character's whole range to its last byte piece and empty
// ranges to the others; give each byte piece its own byte instead, as byte-level BPE does.
void SpmTokenizer::splitByteFallbackSpans(Encoding& out, size_t first) const {
    auto isByte = [&](size_t i) { return tokenType(out.ids[i]) == TokenType::Byte; };
    for (size_t i = first; i < out.ids.size(); ++i) {
        if (!isByte(i)) continue;
        const uint32_t begin = out.spans[i].begin;
        size_t last = i;
        while (last + 1 < out.ids.size() && isByte(last + 1) && out.spans[last].end == begin &&
               out.spans[last + 1].begin == begin)
            ++last;
        if (out.spans[last].end - begin == last - i + 1)
            for (size_t k = i; k <= last; ++k)
                out.spans[k] = {static_cast<uint32_t>(begin + (k - i)),
                                static_cast<uint32_t>(begin + (k - i) + 1)};
        i = last;
    }
}

bool SpmTokenizer::dropsSpaceAtTextStart(TokenId id) const {
    return addsSpacePrefix_ && tokenType(id) != TokenType::Byte;
}

std::string SpmTokenizer::tokenBytes(TokenId id, bool renderSpecial) const {
    if (id < 0 || id >= vocabSize()) return {};
    switch (tokenType(id)) {
    case TokenType::Control:
    case TokenType::Unknown:
        return renderSpecial ? spec_.tokens[id] : std::string();
    default:
        return decodedTokens_[id];
    }
}

} // namespace hip::tok
