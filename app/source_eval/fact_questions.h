#pragma once
// Asks a planted fact's question about a document already read into a session, in a fresh
// conversation after the document (its KV cache is reused, so the book is not read again), and
// scores the answer and the pages it cites.

#include "source_eval/planted_book.h"
#include "source_eval/source_scores.h"

#include "document/document_text.h"
#include "document/document_tokens.h"

#include <hip/cancel.h>
#include <hip/generation.h>
#include <hip/session.h>

#include <string>
#include <vector>

namespace hip::sources {

// page@3 needs three cited pages.
constexpr int kCitedPages = 3;

struct FactAnswer {
    std::string text;
    hip::GenerationStats stats;
    // The cited pages (doc::citedPages), best first, at most kCitedPages, and their score.
    std::vector<doc::PageAttention> cited;
    FactScore score;
    // For comparison, the pages ranked as before the question's attention was traced: by the
    // answer's attention beyond its background (doc::answerSourceWeights), and by the answer's
    // attention mass alone (doc::attentionWeights).
    std::vector<doc::PageAttention> citedByAnswer;
    FactScore scoreByAnswer;
    std::vector<doc::PageAttention> citedByMass;
    FactScore scoreByMass;
};

// `page` is where the fact is in `document` as read (locateFacts).
hip::Result<FactAnswer> askPlantedFact(hip::Session& session, const doc::DocumentText& document,
                                       const doc::DocumentTokens& tokens, const PlantedFact& fact,
                                       int page, const hip::GenerateOptions& options,
                                       const hip::CancelToken& cancel = {});

} // namespace hip::sources
