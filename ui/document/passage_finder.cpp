#include "document/passage_finder.h"

#include <algorithm>
#include <numeric>

namespace hip::doc {
namespace {

bool isSpace(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}
bool endsSentence(char c) {
    return c == '.' || c == '!' || c == '?';
}

hip::TextRange trimmed(const std::string& text, hip::TextRange range) {
    while (range.begin < range.end && isSpace(text[range.begin]))
        ++range.begin;
    while (range.end > range.begin && isSpace(text[range.end - 1]))
        --range.end;
    return range;
}

// The sentence (or line) around `token`, within `page` and `maxBytes`; cut at a space where it
// runs longer.
hip::TextRange sentenceAround(const std::string& text, hip::TextRange token, hip::TextRange page,
                              uint64_t maxBytes) {
    // The token's word, without the whitespace a BPE token carries in front of it.
    uint64_t word = std::max(token.begin, page.begin);
    while (word + 1 < token.end && isSpace(text[word]))
        ++word;
    const uint64_t half = maxBytes / 2;
    const uint64_t low = std::max(page.begin, word > half ? word - half : 0);
    const uint64_t high = std::min(page.end, std::max(token.end, word + 1) + half);
    uint64_t begin = word;
    for (;; --begin) {
        if (begin <= low) {
            begin = low;
            if (low > page.begin)
                while (begin < word && !isSpace(text[begin]))
                    ++begin;
            break;
        }
        const char before = text[begin - 1];
        if (before == '\n' || (isSpace(before) && begin >= 2 && endsSentence(text[begin - 2])))
            break;
    }
    // From the token's last byte on, so a token that ends a sentence ends the passage.
    uint64_t end = std::max(token.end, word + 1) - 1;
    for (; end < high; ++end) {
        if (text[end] == '\n') break;
        if (endsSentence(text[end]) && (end + 1 >= high || isSpace(text[end + 1]))) {
            ++end;
            break;
        }
    }
    if (end >= high && high < page.end)
        while (end > word + 1 && !isSpace(text[end - 1]))
            --end;
    return trimmed(text, {begin, std::min(end, high)});
}

Passage makePassage(const DocumentText& document, int page, hip::TextRange range, double weight,
                    int maxQuoteCharacters) {
    Passage passage;
    passage.page = page;
    passage.label = document.pages[size_t(page)].label;
    passage.text = range;
    passage.weight = weight;
    passage.quote = document.quote(range, maxQuoteCharacters);
    for (PageArea& area : document.areasOf(range))
        if (area.page == page) passage.boxes = std::move(area.boxes);
    return passage;
}

std::vector<Passage> passagesOnPage(const DocumentText& document, const DocumentTokens& tokens,
                                    std::span<const float> weights, int page, double total,
                                    const PassageOptions& options) {
    const hip::TextRange pageRange = document.pageRange(page);
    const hip::KeyRange positions = tokens.positionsOf(pageRange);
    struct Seed {
        float weight;
        int64_t position;
    };
    std::vector<Seed> seeds;
    for (int64_t p = positions.begin; p < positions.end && p < int64_t(weights.size()); ++p)
        if (weights[size_t(p)] > 0 && document.pageOf(tokens.rangeAt(p)) == page)
            seeds.push_back({weights[size_t(p)], p});
    std::sort(seeds.begin(), seeds.end(),
              [](const Seed& a, const Seed& b) { return a.weight > b.weight; });

    // Sentences around the heaviest tokens; a few more than wanted, so that the ranking by
    // total weight below can prefer a sentence with many heavy tokens over one lone peak.
    std::vector<hip::TextRange> ranges;
    const size_t wanted = size_t(std::max(options.maxPassagesPerPage, 1)) * 3;
    for (const Seed& seed : seeds) {
        if (ranges.size() >= wanted) break;
        const hip::TextRange token = tokens.rangeAt(seed.position);
        const bool covered = std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) {
            return token.begin >= r.begin && token.begin < r.end;
        });
        if (covered) continue;
        const hip::TextRange sentence =
            sentenceAround(document.text, token, pageRange, uint64_t(options.maxPassageBytes));
        if (sentence.begin < sentence.end) ranges.push_back(sentence);
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const auto& a, const auto& b) { return a.begin < b.begin; });
    std::vector<hip::TextRange> merged;
    for (const hip::TextRange& r : ranges) {
        if (!merged.empty() && r.begin <= merged.back().end)
            merged.back().end = std::max(merged.back().end, r.end);
        else
            merged.push_back(r);
    }

    std::vector<Passage> passages;
    for (const hip::TextRange& r : merged) {
        double weight = 0;
        const hip::KeyRange inside = tokens.positionsOf(r);
        for (int64_t p = inside.begin; p < inside.end && p < int64_t(weights.size()); ++p)
            if (weights[size_t(p)] > 0) weight += weights[size_t(p)];
        passages.push_back(
            makePassage(document, page, r, weight / total, options.maxQuoteCharacters));
    }
    std::sort(passages.begin(), passages.end(),
              [](const Passage& a, const Passage& b) { return a.weight > b.weight; });
    if (passages.size() > size_t(std::max(options.maxPassagesPerPage, 0)))
        passages.resize(size_t(std::max(options.maxPassagesPerPage, 0)));
    return passages;
}

} // namespace

std::vector<float> attentionWeights(const hip::AttentionTrace& trace) {
    if (!trace.mass.empty()) return trace.mass;
    return {trace.hitCounts.begin(), trace.hitCounts.end()};
}

std::vector<float> documentShares(std::span<const float> weights, const DocumentTokens& tokens) {
    std::vector<float> shares(size_t(tokens.count()), 0.0f);
    double total = 0;
    for (size_t i = 0; i < shares.size(); ++i) {
        const size_t position = size_t(tokens.firstPosition()) + i;
        if (position >= weights.size()) break;
        if (weights[position] > 0) { // also skips NaN
            shares[i] = weights[position];
            total += weights[position];
        }
    }
    if (total > 0)
        for (float& share : shares)
            share = float(share / total);
    return shares;
}

std::vector<float> beyondBackground(std::span<const float> weights, const DocumentTokens& tokens,
                                    std::span<const float> background, float factor) {
    const std::vector<float> shares = documentShares(weights, tokens);
    std::vector<float> result(size_t(tokens.endPosition()), 0.0f);
    for (size_t i = 0; i < shares.size() && i < background.size(); ++i)
        result[size_t(tokens.firstPosition()) + i] =
            std::max(0.0f, shares[i] - factor * background[i]);
    return result;
}

std::vector<float> sourceWeights(const hip::AttentionTrace& trace, const DocumentTokens& tokens) {
    const std::vector<float>& background = tokens.background().question;
    if (trace.questionMass.empty() || background.size() != size_t(tokens.count()))
        return answerSourceWeights(trace, tokens);
    std::vector<float> weights =
        beyondBackground(trace.questionMass, tokens, background, kQuestionBackgroundFactor);
    if (std::none_of(weights.begin(), weights.end(), [](float w) { return w > 0; }))
        return answerSourceWeights(trace, tokens);
    return weights;
}

std::vector<float> answerSourceWeights(const hip::AttentionTrace& trace,
                                       const DocumentTokens& tokens) {
    const std::vector<float>& background = tokens.background().answer;
    if (background.size() != size_t(tokens.count())) return attentionWeights(trace);
    return beyondBackground(attentionWeights(trace), tokens, background, kAnswerBackgroundFactor);
}

std::vector<PageAttention> attendedPages(const DocumentText& document, const DocumentTokens& tokens,
                                         std::span<const float> weights,
                                         const PassageOptions& options) {
    std::vector<double> pageWeight(document.pages.size());
    double total = 0;
    const int64_t end = std::min<int64_t>(tokens.endPosition(), int64_t(weights.size()));
    for (int64_t p = tokens.firstPosition(); p < end; ++p) {
        const float w = weights[size_t(p)];
        if (!(w > 0)) continue; // also skips NaN
        const int page = document.pageOf(tokens.rangeAt(p));
        if (page < 0) continue;
        pageWeight[size_t(page)] += w;
        total += w;
    }
    if (total <= 0) return {};

    std::vector<int> order(document.pages.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t keep = std::min(order.size(), size_t(std::max(options.maxPages, 0)));
    std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(keep), order.end(),
                      [&](int a, int b) { return pageWeight[size_t(a)] > pageWeight[size_t(b)]; });
    std::vector<PageAttention> pages;
    for (size_t i = 0; i < keep && pageWeight[size_t(order[i])] > 0; ++i) {
        const int page = order[i];
        pages.push_back({page, document.pages[size_t(page)].label, pageWeight[size_t(page)] / total,
                         passagesOnPage(document, tokens, weights, page, total, options)});
    }
    return pages;
}

std::vector<Passage> passagesOf(const DocumentText& document, const DocumentTokens& tokens,
                                hip::KeyRange positions, int maxQuoteCharacters) {
    const hip::TextRange range = tokens.textOf(positions);
    std::vector<Passage> passages;
    if (range.begin >= range.end) return passages;
    uint64_t length = 0;
    for (int page = document.pageAt(range.begin); page >= 0 && page <= document.pageOf(range);
         ++page) {
        const hip::TextRange pageRange = document.pageRange(page);
        const hip::TextRange part = trimmed(document.text, {std::max(range.begin, pageRange.begin),
                                                            std::min(range.end, pageRange.end)});
        if (part.begin >= part.end) continue;
        passages.push_back(
            makePassage(document, page, part, double(part.end - part.begin), maxQuoteCharacters));
        length += part.end - part.begin;
    }
    for (Passage& passage : passages)
        passage.weight /= double(length);
    return passages;
}

std::vector<PageAttention> citedPages(std::span<const float> weights, const DocumentText& document,
                                      const DocumentTokens& tokens, int maxPages) {
    PassageOptions options;
    options.maxPages = maxPages;
    options.maxPassagesPerPage = 1;
    options.maxQuoteCharacters = 100;
    return attendedPages(document, tokens, weights, options);
}

std::vector<PageAttention> citedPages(const hip::AttentionTrace& trace,
                                      const DocumentText& document, const DocumentTokens& tokens,
                                      int maxPages) {
    return citedPages(sourceWeights(trace, tokens), document, tokens, maxPages);
}

} // namespace hip::doc
