#include "tokenizer/bpe_tokenizer.h"

#include "tokenizer/byte_alphabet.h"
#include "tokenizer/utf8.h"

#include <algorithm>

namespace hip::tok {
namespace {

// Pre-tokenizer names whose tokenizers follow Llama 3's rules: BOS by default, and a piece that
// is already a vocabulary token is not split (Hugging Face's `ignore_merges`).
bool followsLlama3Rules(std::string_view pre) {
    return pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3";
}

// The bytes a token's text stands for in GPT-2's alphabet. Characters outside the alphabet
// (malformed vocabularies) are kept as their UTF-8.
std::string decodeAlphabet(std::string_view text) {
    std::string bytes;
    bytes.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const utf8::Sequence seq = utf8::examine(text, pos);
        const auto byte = seq.state == utf8::SequenceState::Complete ? alphabetToByte(seq.codepoint)
                                                                     : std::nullopt;
        if (byte)
            bytes.push_back(static_cast<char>(*byte));
        else
            bytes.append(text, pos, seq.length);
        pos += seq.length;
    }
    return bytes;
}

std::string encodeAlphabet(std::string_view bytes) {
    std::string text;
    text.reserve(bytes.size() * 2);
    for (char byte : bytes)
        utf8::appendCodepoint(text, byteToAlphabet(static_cast<uint8_t>(byte)));
    return text;
}

} // namespace

// Buffers reused across the pieces of one encode call, and the tokens of every distinct piece
// seen so far: books repeat their words, so most pieces are looked up rather than merged.
class BpeTokenizer::Workspace {
public:
    struct Symbol {
        TokenId id;
        uint32_t length; // bytes covered; 0 once merged into its left neighbour
        int32_t prev;
        int32_t next;
    };
    struct Candidate {
        int32_t rank;
        int32_t left;
        int32_t right;
        TokenId result;
        TokenId rightId; // to notice that the right symbol has merged since
        // std heaps are max-heaps: the lowest rank, then the leftmost pair, comes out first.
        bool operator<(const Candidate& other) const {
            return rank != other.rank ? rank > other.rank : left > other.left;
        }
    };
    struct CachedPiece {
        uint32_t first;
        uint32_t count;
    };

    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
    std::unordered_map<std::string_view, CachedPiece> cache;
    std::vector<PieceToken> cachedTokens;
};

Result<std::unique_ptr<Tokenizer>> BpeTokenizer::create(const TokenizerSpec& spec) {
    PreTokenizerPreset preset = PreTokenizerPreset::Gpt2;
    if (!spec.pre.empty()) {
        const auto known = preTokenizerPresetFromName(spec.pre);
        if (!known)
            return makeError(ErrorCode::Unsupported,
                             "BPE pre-tokenizer \"" + spec.pre +
                                 "\" (tokenizer.ggml.pre) is not supported");
        preset = *known;
    }
    std::unique_ptr<BpeTokenizer> tokenizer(
        new BpeTokenizer(spec, preset, followsLlama3Rules(spec.pre)));
    if (spec.pre.empty())
        tokenizer->warnings_.push_back(
            "tokenizer.ggml.pre is missing: using the GPT-2 pre-tokenizer, which may split text "
            "differently from the model's own tokenizer");
    HIP_TRY(tokenizer->loadMerges());
    return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

BpeTokenizer::BpeTokenizer(TokenizerSpec spec, PreTokenizerPreset preset, bool llama3Rules)
    : Tokenizer(std::move(spec), llama3Rules, false), preset_(preset), ignoreMerges_(llama3Rules) {
    for (unsigned byte = 0; byte < 256; ++byte) {
        std::string text;
        utf8::appendCodepoint(text, byteToAlphabet(static_cast<uint8_t>(byte)));
        byteTokens_[byte] = findToken(text).value_or(-1);
    }
    decodedTokens_.reserve(spec_.tokens.size());
    for (const std::string& text : spec_.tokens)
        decodedTokens_.push_back(decodeAlphabet(text));
}

Status BpeTokenizer::loadMerges() {
    merges_.reserve(spec_.merges.size());
    size_t unusable = 0;
    for (size_t rank = 0; rank < spec_.merges.size(); ++rank) {
        const std::string_view merge = spec_.merges[rank];
        // A part may itself be a space (vocabularies not written in GPT-2's alphabet), so the
        // separator is the first space after position 0.
        const size_t space = merge.find(' ', 1);
        if (space == std::string_view::npos)
            return makeError(ErrorCode::InvalidArgument,
                             "merge " + std::to_string(rank) + " \"" + std::string(merge) +
                                 "\" has no space between its two parts");
        const auto left = findToken(merge.substr(0, space));
        const auto right = findToken(merge.substr(space + 1));
        const auto result =
            findToken(std::string(merge.substr(0, space)) + std::string(merge.substr(space + 1)));
        if (!left || !right || !result) {
            ++unusable;
            continue;
        }
        merges_.try_emplace(pairKey(*left, *right), Merge{static_cast<int32_t>(rank), *result});
    }
    if (unusable > 0)
        warnings_.push_back(std::to_string(unusable) +
                            " BPE merges name tokens missing from the vocabulary; ignored");
    return Status::ok();
}

void BpeTokenizer::encodeText(std::string_view text, uint32_t offset, Encoding& out) const {
    std::vector<uint32_t> pieceEnds;
    preTokenize(preset_, text, pieceEnds);
    Workspace workspace;
    uint32_t begin = 0;
    for (uint32_t end : pieceEnds) {
        const std::string_view piece = text.substr(begin, end - begin);
        auto [entry, isNew] = workspace.cache.try_emplace(piece);
        if (isNew) {
            const auto first = static_cast<uint32_t>(workspace.cachedTokens.size());
            encodePiece(piece, workspace, workspace.cachedTokens);
            entry->second = {first, static_cast<uint32_t>(workspace.cachedTokens.size() - first)};
        }
        uint32_t tokenBegin = offset + begin;
        for (uint32_t k = 0; k < entry->second.count; ++k) {
            const PieceToken& token = workspace.cachedTokens[entry->second.first + k];
            // Bytes the vocabulary cannot write (SmolLM2 lacks a few control bytes) are dropped,
            // as Hugging Face tokenizers does without an unknown token.
            if (token.id >= 0) {
                out.ids.push_back(token.id);
                out.spans.push_back({tokenBegin, tokenBegin + token.length});
            }
            tokenBegin += token.length;
        }
        begin = end;
    }
}

void BpeTokenizer::encodePiece(std::string_view piece, Workspace& workspace,
                               std::vector<PieceToken>& out) const {
    const auto length = static_cast<uint32_t>(piece.size());
    if (ignoreMerges_) {
        if (auto whole = findToken(encodeAlphabet(piece))) {
            out.push_back({*whole, length});
            return;
        }
    }

    auto& symbols = workspace.symbols;
    symbols.clear();
    for (uint32_t i = 0; i < length; ++i) {
        symbols.push_back({byteTokens_[static_cast<uint8_t>(piece[i])], 1,
                           static_cast<int32_t>(i) - 1,
                           i + 1 < length ? static_cast<int32_t>(i) + 1 : -1});
    }

    auto& heap = workspace.heap;
    heap.clear();
    auto consider = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = symbols[left].next;
        if (right < 0) return;
        const auto merge = merges_.find(pairKey(symbols[left].id, symbols[right].id));
        if (merge == merges_.end()) return;
        heap.push_back({merge->second.rank, left, right, merge->second.result, symbols[right].id});
        std::push_heap(heap.begin(), heap.end());
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(length); ++i)
        consider(i);

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end());
        const Workspace::Candidate candidate = heap.back();
        heap.pop_back();
        Workspace::Symbol& left = symbols[candidate.left];
        // Skip pairs that earlier merges have changed.
        if (left.length == 0 || left.next != candidate.right ||
            symbols[candidate.right].id != candidate.rightId)
            continue;
        Workspace::Symbol& right = symbols[candidate.right];
        left.id = candidate.result;
        left.length += right.length;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = candidate.left;
        right.length = 0;
        consider(left.prev);
        consider(candidate.left);
    }

    // Pieces are never empty, so symbol 0 starts the chain. A byte without a one-character
    // token keeps id -1 and is dropped later.
    for (int32_t i = 0; i >= 0; i = symbols[i].next)
        out.push_back({symbols[i].id, symbols[i].length});
}

std::string BpeTokenizer::tokenBytes(TokenId id, bool renderSpecial) const {
    if (id < 0 || id >= vocabSize()) return {};
    switch (tokenType(id)) {
    case TokenType::Control:
    case TokenType::Unknown:
        return renderSpecial ? spec_.tokens[id] : std::string();
    case TokenType::UserDefined:
        return spec_.tokens[id];
    default:
        return decodedTokens_[id];
    }
}

} // namespace hip::tok
