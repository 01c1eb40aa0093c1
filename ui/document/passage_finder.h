#pragma once
// From weights on KV positions (attention mass, HiP's selection counts) or a range of positions
// back to the pages and passages of the document they stand for.

#include "document/document_text.h"
#include "document/document_tokens.h"
#include "document/passage.h"

#include <hip/attention_trace.h>

#include <span>
#include <vector>

namespace hip::doc {

struct PassageOptions {
    int maxPages = 5;
    int maxPassagesPerPage = 2;
    int maxQuoteCharacters = 160;
    // A passage grows from its heaviest token to the sentence around it, but no further.
    int maxPassageBytes = 600;
};

// The weight of each KV position in a trace: the attention mass where the engine recorded it,
// else how often HiP selected the position.
std::vector<float> attentionWeights(const hip::AttentionTrace& trace);

// Per document token (KV position tokens.firstPosition() + i), its share of the weights that fall
// on the document; all zero when none does.
std::vector<float> documentShares(std::span<const float> weights, const DocumentTokens& tokens);

// An answer's attention counts on a document token only beyond this many times the token's
// background share (DocumentTokens::background): of 1, 2, 4 and 8, 4 ranked the planted page
// first most often in `hipreader-cli eval sources` (docs/PERFORMANCE.md, cited pages).
constexpr float kBackgroundFactor = 4.0f;

// The weight of each KV position as a source of the answer behind `trace`: the position's share
// of the document's attention less kBackgroundFactor times its background share, where positive;
// zero outside the document. Attention every answer pays (the first and last tokens, words such
// as "the") drops out, what this answer looked for stays. Without a measured background, the
// attention weights as they are.
std::vector<float> sourceWeights(const hip::AttentionTrace& trace, const DocumentTokens& tokens);

// The pages the weights fall on most, heaviest first, each with its heaviest passages: the
// sentences around the heaviest tokens, merged where they overlap.
std::vector<PageAttention> attendedPages(const DocumentText& document, const DocumentTokens& tokens,
                                         std::span<const float> weights,
                                         const PassageOptions& options = {});

// The pages an answer drew on most (sourceWeights of the session's trace after it), each with
// one short quote: what `hipreader-cli ask --doc` prints and `hipreader-cli serve` returns.
std::vector<PageAttention> citedPages(const hip::AttentionTrace& trace,
                                      const DocumentText& document, const DocumentTokens& tokens,
                                      int maxPages);
// The same from weights on KV positions (to compare rankings).
std::vector<PageAttention> citedPages(std::span<const float> weights, const DocumentText& document,
                                      const DocumentTokens& tokens, int maxPages);

// The text KV positions `positions` stand for, one passage per page it covers, in page order;
// a passage's weight is its share of the text.
std::vector<Passage> passagesOf(const DocumentText& document, const DocumentTokens& tokens,
                                hip::KeyRange positions, int maxQuoteCharacters = 160);

} // namespace hip::doc
