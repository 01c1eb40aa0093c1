#include "bridge/attention_mask.h"

#include <QCoreApplication>

#include <algorithm>

namespace hip::ui {

AttentionMask layerMask(const hip::AttentionTrace& trace, MaskRequest request) {
    AttentionMask mask;
    mask.layer = request.layer;
    mask.sinkTokens = request.attention.sinkTokens;
    mask.windowTokens = request.attention.windowTokens;
    mask.documentBegin = request.documentBegin;
    mask.documentEnd = request.documentEnd;
    mask.contextTokens = std::max<int64_t>(1, request.contextTokens);
    mask.pageStarts = std::move(request.pageStarts);
    mask.pageNames = std::move(request.pageNames);

    auto tr = [](const char* text) { return QCoreApplication::translate("AttentionMask", text); };
    if (request.attention.mode == hip::AttentionConfig::Mode::Dense) {
        mask.denseLayer = true;
        mask.note = tr("Attention is dense (the \"dense\" preset): every key is attended and "
                       "nothing is selected. Choose a HiP preset in Settings to see its masks.");
        return mask;
    }
    if (trace.tokens.empty()) {
        mask.note =
            (request.crossover.measured
                 ? tr("No HiP selections were recorded for the last answer: every layer ran "
                      "dense because the context is shorter than %1 tokens, where HiP "
                      "becomes faster than dense attention on this GPU (measured at load).")
                 : tr("No HiP selections were recorded for the last answer: every layer ran "
                      "dense because the context is shorter than the preset's dense "
                      "crossover (%1 tokens)."))
                .arg(request.crossover.decodeTokens);
        return mask;
    }

    mask.queries.reserve(trace.tokens.size());
    mask.ranges.reserve(trace.tokens.size());
    bool anySelection = false;
    for (const hip::TokenAttention& token : trace.tokens) {
        mask.queries.push_back(token.position);
        std::vector<hip::KeyRange> ranges;
        if (size_t(request.layer) < token.layers.size())
            for (const hip::KeyRange& range : token.layers[size_t(request.layer)])
                if (range.begin < std::min(range.end, mask.contextTokens))
                    ranges.push_back({range.begin, std::min(range.end, mask.contextTokens)});
        anySelection = anySelection || !ranges.empty();
        mask.ranges.push_back(std::move(ranges));
    }
    if (!anySelection) {
        mask.denseLayer = true;
        mask.note = tr("Layer %1 ran dense for every generated token: every key was attended.")
                        .arg(request.layer);
    }
    return mask;
}

} // namespace hip::ui
