#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace hip::tok {
namespace {

// Moves the valid UTF-8 at the front of `pending` to the result, replacing invalid sequences.
// An incomplete sequence at the end stays in `pending` unless `final`.
std::string takeValid(std::string& pending, bool final) {
    std::string out;
    size_t pos = 0;
    while (pos < pending.size()) {
        const utf8::Sequence seq = utf8::examine(pending, pos);
        if (seq.state == utf8::SequenceState::Incomplete && !final) break;
        if (seq.state == utf8::SequenceState::Complete)
            out.append(pending, pos, seq.length);
        else
            out += utf8::kReplacementCharacter;
        pos += seq.length;
    }
    pending.erase(0, pos);
    return out;
}

} // namespace

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool renderSpecial)
    : tokenizer_(tokenizer), renderSpecial_(renderSpecial) {}

std::string StreamingDecoder::push(TokenId id) {
    pending_ += tokenizer_.decodePiece(id, atTextStart_, renderSpecial_);
    return takeValid(pending_, false);
}

std::string StreamingDecoder::flush() {
    return takeValid(pending_, true);
}

} // namespace hip::tok
