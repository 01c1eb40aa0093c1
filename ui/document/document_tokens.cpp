#include "document/document_tokens.h"

#include <algorithm>

namespace hip::doc {

DocumentTokens::DocumentTokens(hip::IngestResult ingest)
    : first_(ingest.firstDocumentToken), ranges_(std::move(ingest.documentTokens)),
      contextTokens_(ingest.contextTokens), seconds_(ingest.seconds) {}

hip::TextRange DocumentTokens::rangeAt(int64_t position) const {
    if (position < first_ || position >= endPosition()) return {};
    return ranges_[size_t(position - first_)];
}

hip::TextRange DocumentTokens::textOf(hip::KeyRange positions) const {
    const int64_t begin = std::max(positions.begin, first_);
    const int64_t end = std::min(positions.end, endPosition());
    if (begin >= end) return {};
    return {ranges_[size_t(begin - first_)].begin, ranges_[size_t(end - 1 - first_)].end};
}

hip::KeyRange DocumentTokens::positionsOf(hip::TextRange range) const {
    if (range.begin >= range.end) return {};
    // The first token ending after the range begins, up to the first starting at its end.
    const auto first = std::upper_bound(
        ranges_.begin(), ranges_.end(), range.begin,
        [](uint64_t byte, const hip::TextRange& token) { return byte < token.end; });
    const auto last = std::lower_bound(
        first, ranges_.end(), range.end,
        [](const hip::TextRange& token, uint64_t byte) { return token.begin < byte; });
    if (first >= last) return {};
    return {first_ + (first - ranges_.begin()), first_ + (last - ranges_.begin())};
}

} // namespace hip::doc
