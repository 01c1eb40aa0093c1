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

// Attention counts on a document token only beyond this many times the token's background share
// (DocumentTokens::background): the question's and the answer's each against their own. Of 0, 1,
// 2, 4, 8 and 16, these ranked the planted page first most often in `hipreader-cli eval sources`
// (docs/PERFORMANCE.md, cited pages).
constexpr float kQuestionBackgroundFactor = 8.0f;
constexpr float kAnswerBackgroundFactor = 4.0f;

// Per KV position, its share of the document's `weights` less `factor` times its `background`
// share (per document token), where positive; zero outside the document.
std::vector<float> beyondBackground(std::span<const float> weights, const DocumentTokens& tokens,
                                    std::span<const float> background, float factor);

// The weight of each KV position as a source of the answer behind `trace`: the attention of the
// question's own tokens beyond its background (what the question looks up, whatever the answer
// then says; attention every question pays, to the first and last tokens and words such as
// "the", drops out). Without a question trace or its background, or where the question looked
// nowhere beyond it (a short text, whose background shares are large), answerSourceWeights.
std::vector<float> sourceWeights(const hip::AttentionTrace& trace, const DocumentTokens& tokens);

// The attention of the answer's tokens beyond its background; without a measured background, the
// attention weights as they are.
std::vector<float> answerSourceWeights(const hip::AttentionTrace& trace,
                                       const DocumentTokens& tokens);

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
