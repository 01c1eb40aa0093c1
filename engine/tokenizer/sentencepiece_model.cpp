#include "tokenizer/sentencepiece_model.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace hip::tok {
namespace {

// The few pieces of the protobuf wire format the model needs.
class ProtoWriter {
public:
    void varintField(uint32_t field, uint64_t value) {
        tag(field, 0);
        varint(value);
    }
    // Negative int32 values are sign-extended to 64 bits, as protobuf encodes them.
    void int32Field(uint32_t field, int32_t value) {
        varintField(field, static_cast<uint64_t>(static_cast<int64_t>(value)));
    }
    void floatField(uint32_t field, float value) {
        tag(field, 5);
        const auto bits = std::bit_cast<uint32_t>(value);
        for (int shift = 0; shift < 32; shift += 8)
            bytes_.push_back(static_cast<char>(bits >> shift));
    }
    void bytesField(uint32_t field, std::string_view value) {
        tag(field, 2);
        varint(value.size());
        bytes_.append(value);
    }
    const std::string& bytes() const { return bytes_; }

private:
    void tag(uint32_t field, uint32_t wireType) { varint((uint64_t{field} << 3) | wireType); }
    void varint(uint64_t value) {
        while (value >= 0x80) {
            bytes_.push_back(static_cast<char>((value & 0x7F) | 0x80));
            value >>= 7;
        }
        bytes_.push_back(static_cast<char>(value));
    }
    std::string bytes_;
};

// Field numbers of sentencepiece_model.proto.
namespace field {
constexpr uint32_t kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
constexpr uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint32_t kTrainerModelType = 3, kTrainerVocabSize = 4, kTrainerByteFallback = 35;
constexpr uint32_t kTrainerUnkId = 40, kTrainerBosId = 41, kTrainerEosId = 42, kTrainerPadId = 43;
constexpr uint32_t kNormalizerName = 1, kNormalizerAddDummyPrefix = 3,
                   kNormalizerRemoveExtraWhitespaces = 4, kNormalizerEscapeWhitespaces = 5;
} // namespace field

constexpr uint64_t kModelTypeBpe = 2;

} // namespace

Result<std::string> serializeSentencePieceModel(const TokenizerSpec& spec) {
    const size_t count = spec.tokens.size();
    auto typeOf = [&](size_t id) {
        const TokenType type = id < spec.types.size() ? spec.types[id] : TokenType::Normal;
        return type == TokenType::Undefined ? TokenType::Normal : type;
    };
    // sentencepiece needs exactly one unknown piece; a vocabulary without types may still name
    // it through the unknown id.
    TokenId unk = -1;
    for (size_t id = 0; id < count && unk < 0; ++id)
        if (typeOf(id) == TokenType::Unknown) unk = static_cast<TokenId>(id);
    if (unk < 0) unk = spec.unk;
    if (unk < 0)
        return makeError(ErrorCode::InvalidArgument,
                         "a SentencePiece vocabulary needs an unknown token");
    bool hasByteTokens = false;

    ProtoWriter model;
    for (size_t id = 0; id < count; ++id) {
        TokenType type = typeOf(id);
        if (static_cast<TokenId>(id) == unk)
            type = TokenType::Unknown;
        else if (type == TokenType::Unknown)
            type = TokenType::Control; // a second <unk>
        hasByteTokens = hasByteTokens || type == TokenType::Byte;
        // Without scores, earlier pieces merge first, as in vocabularies sorted by frequency.
        const float score = spec.scores.empty() ? -static_cast<float>(id) : spec.scores[id];

        ProtoWriter piece;
        piece.bytesField(field::kPieceText, spec.tokens[id]);
        piece.floatField(field::kPieceScore, score);
        // TokenType uses sentencepiece's numbering of piece types.
        piece.varintField(field::kPieceType, static_cast<uint64_t>(type));
        model.bytesField(field::kModelPieces, piece.bytes());
    }

    ProtoWriter trainer;
    trainer.varintField(field::kTrainerModelType, kModelTypeBpe);
    trainer.int32Field(field::kTrainerVocabSize, static_cast<int32_t>(count));
    trainer.varintField(field::kTrainerByteFallback, hasByteTokens ? 1 : 0);
    trainer.int32Field(field::kTrainerUnkId, unk);
    trainer.int32Field(field::kTrainerBosId, spec.bos);
    trainer.int32Field(field::kTrainerEosId, spec.eos);
    trainer.int32Field(field::kTrainerPadId, spec.pad);
    model.bytesField(field::kModelTrainerSpec, trainer.bytes());

    ProtoWriter normalizer;
    normalizer.bytesField(field::kNormalizerName, "identity");
    normalizer.varintField(field::kNormalizerAddDummyPrefix, spec.addSpacePrefix.value_or(true));
    normalizer.varintField(field::kNormalizerRemoveExtraWhitespaces, 0);
    normalizer.varintField(field::kNormalizerEscapeWhitespaces, 1);
    model.bytesField(field::kModelNormalizerSpec, normalizer.bytes());

    return model.bytes();
}

} // namespace hip::tok
