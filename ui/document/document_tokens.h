#pragma once
// The document as the engine holds it: which bytes of DocumentText::text each KV position of
// the ingested document stands for, in both directions.

#include <hip/attention_trace.h>
#include <hip/session.h>

#include <cstdint>
#include <vector>

namespace hip::doc {

class DocumentTokens {
public:
    DocumentTokens() = default;
    explicit DocumentTokens(hip::IngestResult ingest);

    // KV positions [firstPosition, endPosition) hold the document.
    int64_t firstPosition() const { return first_; }
    int64_t endPosition() const { return first_ + count(); }
    int64_t count() const { return int64_t(ranges_.size()); }
    int64_t contextTokens() const { return contextTokens_; } // header and document
    double seconds() const { return seconds_; }              // the ingest took
    // Bytes of the token at KV `position` (empty outside the document).
    hip::TextRange rangeAt(int64_t position) const;

    // The bytes KV positions [begin, end) stand for; empty when none is a document token.
    hip::TextRange textOf(hip::KeyRange positions) const;
    // The KV positions whose bytes overlap `range`; empty when none does.
    hip::KeyRange positionsOf(hip::TextRange range) const;

    // Where any exchange looks in the document, measured with a question unrelated to it: per
    // document token (KV position firstPosition() + i), its share of the document's attention
    // from that answer's tokens and from that question's (the first tokens, the last ones,
    // frequent words). Empty when it was not measured.
    struct Background {
        std::vector<float> answer;   // shares of AttentionTrace::mass
        std::vector<float> question; // shares of AttentionTrace::questionMass
    };
    const Background& background() const { return background_; }
    void setBackground(Background background) { background_ = std::move(background); }

private:
    int64_t first_ = 0;
    std::vector<hip::TextRange> ranges_; // ascending and disjoint, as the tokenizer made them
    int64_t contextTokens_ = 0;
    double seconds_ = 0;
    Background background_;
};

} // namespace hip::doc
