#include "tokenizer/tokenizer.h"

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/special_token_matcher.h"
#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

namespace hip::tok {
namespace {

// Token texts that end a turn in the chat formats we know, whatever ids the GGUF names.
constexpr std::array<std::string_view, 7> kEndOfTurnTexts = {
    "<|eot_id|>", "<|im_end|>",    "<|endoftext|>", "<|end_of_text|>",
    "<|eom_id|>", "<end_of_turn>", "</s>",
};

} // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(const TokenizerSpec& spec) {
    const bool vocabularyFromModelFile =
        spec.model == "llama" && spec.tokens.empty() && !spec.sentencePieceModelFile.empty();
    if (!vocabularyFromModelFile) HIP_TRY(validate(spec));
    if (spec.model == "gpt2") return BpeTokenizer::create(spec);
    if (spec.model == "llama") return SpmTokenizer::create(spec);
    return makeError(ErrorCode::Unsupported,
                     "tokenizer model \"" + spec.model +
                         "\" is not supported (expected \"gpt2\" or \"llama\")");
}

Status Tokenizer::validate(const TokenizerSpec& spec) {
    const size_t count = spec.tokens.size();
    if (count == 0) return makeError(ErrorCode::InvalidArgument, "the vocabulary is empty");
    if (count > static_cast<size_t>(std::numeric_limits<TokenId>::max()))
        return makeError(ErrorCode::InvalidArgument, "the vocabulary is too large");
    if (!spec.types.empty() && spec.types.size() != count)
        return makeError(ErrorCode::InvalidArgument,
                         "token types: " + std::to_string(spec.types.size()) + " for " +
                             std::to_string(count) + " tokens");
    if (!spec.scores.empty() && spec.scores.size() != count)
        return makeError(ErrorCode::InvalidArgument,
                         "token scores: " + std::to_string(spec.scores.size()) + " for " +
                             std::to_string(count) + " tokens");
    const std::pair<const char*, TokenId> ids[] = {{"bos", spec.bos}, {"eos", spec.eos},
                                                   {"eot", spec.eot}, {"eom", spec.eom},
                                                   {"unk", spec.unk}, {"pad", spec.pad}};
    for (const auto& [name, id] : ids)
        if (id >= static_cast<TokenId>(count))
            return makeError(ErrorCode::InvalidArgument,
                             std::string(name) + " token id " + std::to_string(id) +
                                 " is outside the vocabulary of " + std::to_string(count));
    return Status::ok();
}

Tokenizer::Tokenizer(TokenizerSpec spec, bool defaultAddBos, bool userDefinedInModel)
    : spec_(std::move(spec)), defaultAddBos_(defaultAddBos),
      userDefinedMatcher_(std::make_unique<SpecialTokenMatcher>()),
      specialMatcher_(std::make_unique<SpecialTokenMatcher>()) {
    idsByText_.reserve(spec_.tokens.size());
    for (TokenId id = 0; id < vocabSize(); ++id) {
        const std::string& text = spec_.tokens[id];
        idsByText_.try_emplace(text, id); // the first of duplicate texts wins
        switch (tokenType(id)) {
        case TokenType::UserDefined:
            if (!userDefinedInModel) {
                userDefinedMatcher_->add(text, id);
                specialMatcher_->add(text, id);
            }
            break;
        case TokenType::Control:
        case TokenType::Unknown:
            specialMatcher_->add(text, id);
            break;
        default:
            break;
        }
        if (std::find(kEndOfTurnTexts.begin(), kEndOfTurnTexts.end(), text) !=
            kEndOfTurnTexts.end())
            endOfGeneration_.push_back(id);
    }
    for (TokenId id : {spec_.eos, spec_.eot, spec_.eom})
        if (id >= 0 && id < vocabSize()) endOfGeneration_.push_back(id);
    std::sort(endOfGeneration_.begin(), endOfGeneration_.end());
    endOfGeneration_.erase(std::unique(endOfGeneration_.begin(), endOfGeneration_.end()),
                           endOfGeneration_.end());
}

Tokenizer::~Tokenizer() = default;

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    assert(text.size() <= std::numeric_limits<uint32_t>::max());
    const auto textEnd = static_cast<uint32_t>(text.size());
    Encoding out;
    if (options.addSpecial && addsBos()) {
        out.ids.push_back(spec_.bos);
        out.spans.push_back({0, 0});
    }
    const SpecialTokenMatcher& matcher =
        options.parseSpecial ? *specialMatcher_ : *userDefinedMatcher_;
    for (size_t pos = 0; pos < text.size();) {
        const auto special = matcher.findNext(text, pos);
        const size_t rawEnd = special ? special->begin : text.size();
        if (rawEnd > pos)
            encodeText(text.substr(pos, rawEnd - pos), static_cast<uint32_t>(pos), out);
        if (!special) break;
        out.ids.push_back(special->id);
        out.spans.push_back(
            {static_cast<uint32_t>(special->begin), static_cast<uint32_t>(special->end)});
        pos = special->end;
    }
    if (options.addSpecial && addsEos()) {
        out.ids.push_back(spec_.eos);
        out.spans.push_back({textEnd, textEnd});
    }
    return out;
}

std::string Tokenizer::decodePiece(TokenId id, bool& atTextStart, bool renderSpecial) const {
    std::string bytes = tokenBytes(id, renderSpecial);
    if (bytes.empty()) return bytes;
    if (atTextStart && bytes.front() == ' ' && dropsSpaceAtTextStart(id)) bytes.erase(0, 1);
    atTextStart = false;
    return bytes;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool renderSpecial) const {
    std::string text;
    bool atTextStart = true;
    for (TokenId id : ids)
        text += decodePiece(id, atTextStart, renderSpecial);
    return text;
}

TokenType Tokenizer::tokenType(TokenId id) const {
    if (id < 0 || static_cast<size_t>(id) >= spec_.types.size()) return TokenType::Normal;
    return spec_.types[id];
}

std::optional<TokenId> Tokenizer::findToken(std::string_view text) const {
    const auto it = idsByText_.find(text);
    if (it == idsByText_.end()) return std::nullopt;
    return it->second;
}

bool Tokenizer::addsBos() const {
    return spec_.bos >= 0 && spec_.addBos.value_or(defaultAddBos_);
}

bool Tokenizer::addsEos() const {
    return spec_.eos >= 0 && spec_.addEos.value_or(false);
}

bool Tokenizer::isEndOfGeneration(TokenId id) const {
    return std::binary_search(endOfGeneration_.begin(), endOfGeneration_.end(), id);
}

} // namespace hip::tok
