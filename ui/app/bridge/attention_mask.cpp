#include "bridge/attention_mask.h"

#include <QCoreApplication>

#include <algorithm>

namespace hip::ui {

AttentionMask rasterizeMask(const hip::AttentionTrace& trace, const MaskRequest& request) {
    AttentionMask mask;
    mask.layer = request.layer;
    mask.sinkTokens = request.attention.sinkTokens;
    mask.windowTokens = request.attention.windowTokens;
    mask.documentBegin = request.documentBegin;
    mask.documentEnd = request.documentEnd;
    mask.contextTokens = std::max<int64_t>(1, request.contextTokens);
    mask.keyBins = int(std::clamp<int64_t>(request.keyBins, 1, mask.contextTokens));

    auto tr = [](const char* text) { return QCoreApplication::translate("AttentionMask", text); };
    if (request.attention.mode == hip::AttentionConfig::Mode::Dense) {
        mask.denseLayer = true;
        mask.note = tr("Attention is dense (the \"dense\" preset): every key is attended and "
                       "nothing is selected. Choose a HiP preset in Settings to see its masks.");
        return mask;
    }
    if (trace.tokens.empty()) {
        mask.note = tr("No HiP selections were recorded for the last answer: every layer ran "
                       "dense because the context is shorter than the preset's dense crossover "
                       "(%1 tokens).")
                        .arg(request.attention.denseBelowTokens);
        return mask;
    }

    const double binSize = double(mask.contextTokens) / mask.keyBins;
    mask.queries.reserve(trace.tokens.size());
    mask.cells.assign(trace.tokens.size() * size_t(mask.keyBins), 0.0f);
    bool anySelection = false;
    for (size_t row = 0; row < trace.tokens.size(); ++row) {
        const hip::TokenAttention& token = trace.tokens[row];
        mask.queries.push_back(token.position);
        if (size_t(request.layer) >= token.layers.size()) continue;
        float* cells = mask.cells.data() + row * size_t(mask.keyBins);
        for (const hip::KeyRange& range : token.layers[size_t(request.layer)]) {
            anySelection = true;
            // Spread the range over the bins it overlaps, each getting its covered share.
            const int64_t end = std::min(range.end, mask.contextTokens);
            for (int64_t begin = range.begin; begin < end;) {
                const int bin = std::min(mask.keyBins - 1, int(double(begin) / binSize));
                const auto binEnd =
                    std::min<int64_t>(end, int64_t(std::ceil(double(bin + 1) * binSize)));
                const int64_t covered = std::max<int64_t>(1, binEnd - begin);
                cells[bin] += float(double(covered) / binSize);
                begin += covered;
            }
        }
        for (int b = 0; b < mask.keyBins; ++b)
            cells[b] = std::min(cells[b], 1.0f);
    }
    if (!anySelection) {
        mask.denseLayer = true;
        mask.note = tr("Layer %1 ran dense for every generated token: every key was attended.")
                        .arg(request.layer);
    }
    return mask;
}

} // namespace hip::ui
