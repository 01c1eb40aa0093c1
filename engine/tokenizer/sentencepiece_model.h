#pragma once
// Serializes a sentencepiece ModelProto from a GGUF vocabulary, so that libsentencepiece can
// load a "llama" tokenizer that ships without its tokenizer.model.

#include "hip/status.h"
#include "tokenizer/tokenizer.h"

#include <string>

namespace hip::tok {

// A BPE model whose pieces, scores and types are the spec's, with a normalizer that changes
// nothing but spaces: escape them to U+2581, add the dummy prefix per spec.addSpacePrefix
// (default on), no NFKC and no whitespace folding. Byte fallback is on when there are byte
// tokens. Fails when the vocabulary has no unknown token, which sentencepiece requires.
Result<std::string> serializeSentencePieceModel(const TokenizerSpec& spec);

} // namespace hip::tok
