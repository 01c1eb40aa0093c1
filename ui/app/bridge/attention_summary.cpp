#include "bridge/attention_summary.h"

#include "document/passage_finder.h"

namespace hip::ui {

std::vector<float> pageHeat(const doc::DocumentText& document, const doc::DocumentTokens& tokens,
                            const std::vector<float>& weights) {
    std::vector<float> heat(document.pages.size(), 0.0f);
    if (heat.empty()) return heat;
    double total = 0;
    // Tokens come in text order, so the page only moves forward: no search per token.
    int page = 0;
    uint64_t pageEnd = document.pageRange(0).end;
    const int64_t end = std::min<int64_t>(tokens.endPosition(), int64_t(weights.size()));
    for (int64_t p = tokens.firstPosition(); p < end; ++p) {
        const float w = weights[size_t(p)];
        if (w <= 0) continue;
        const uint64_t byte = tokens.rangeAt(p).begin;
        while (byte >= pageEnd && size_t(page) + 1 < heat.size())
            pageEnd = document.pageRange(++page).end;
        heat[size_t(page)] += w;
        total += w;
    }
    if (total > 0)
        for (float& h : heat)
            h = float(h / total);
    return heat;
}

AttentionSummary summarizeAttention(const doc::DocumentText& document,
                                    const doc::DocumentTokens& tokens,
                                    const hip::AttentionTrace& trace, int maxSources) {
    AttentionSummary summary;
    summary.weights = doc::sourceWeights(trace, tokens);
    doc::PassageOptions options;
    options.maxPages = maxSources;
    summary.pages = doc::attendedPages(document, tokens, summary.weights, options);
    summary.pageHeat = pageHeat(document, tokens, summary.weights);
    return summary;
}

} // namespace hip::ui
