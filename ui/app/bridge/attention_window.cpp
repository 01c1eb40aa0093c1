#include "bridge/attention_window.h"

#include <hip/evaluation.h>

#include <algorithm>
#include <cmath>

namespace hip::ui {
namespace {

// The beginning of `text` that certainly holds `tokens` tokens (a token is rarely longer than 16
// bytes), cut where a word ends, so that a whole book is not tokenized for a short window. The
// whole text when it is not much longer.
std::string leadingText(const std::string& text, int64_t tokens) {
    const size_t bytes = size_t(std::max<int64_t>(tokens, 1)) * 16;
    if (text.size() <= bytes * 2) return text;
    size_t cut = text.find_last_of(" \n\t", bytes);
    if (cut == std::string::npos || cut == 0) {
        cut = bytes; // no space: step back to the start of a UTF-8 character
        while (cut > 0 && (uint8_t(text[cut]) & 0xC0) == 0x80)
            --cut;
    }
    return text.substr(0, cut);
}

// `value` times `factor`, rounded to a multiple of `unit` and at least `least`.
int64_t scaledTokens(int64_t value, double factor, int64_t unit, int64_t least) {
    const auto units = int64_t(std::llround(double(value) * factor / double(unit)));
    return std::max(units * unit, least);
}

} // namespace

hip::AttentionConfig windowAttention(hip::AttentionConfig config, int64_t keyTokens, int32_t layer,
                                     bool* scaled) {
    if (scaled) *scaled = false;
    const int64_t attended =
        int64_t(config.sinkTokens) + config.windowTokens + config.finalTokens(layer);
    const int64_t target = keyTokens / 2;
    if (config.mode == hip::AttentionConfig::Mode::Dense || attended <= target || target < 4)
        return config;
    const double factor = double(target) / double(attended);
    config.sinkTokens = int32_t(scaledTokens(config.sinkTokens, factor, 1, 1));
    config.windowTokens = int32_t(scaledTokens(config.windowTokens, factor, 1, 1));
    if (config.mode == hip::AttentionConfig::Mode::Hip) {
        // From the last stage back: each keeps a multiple of its chunk, and no fewer keys than
        // the stage after it.
        int64_t next = 0;
        for (auto stage = config.stages.rbegin(); stage != config.stages.rend(); ++stage) {
            const int64_t chunk = stage->chunkSize;
            const int64_t atLeast = std::max(chunk, (next + chunk - 1) / chunk * chunk);
            stage->keepTokens = scaledTokens(stage->keepTokens, factor, chunk, atLeast);
            next = stage->keepTokens;
        }
        const int64_t lastChunk = config.stages.back().chunkSize;
        config.firstLayersFinalTokens =
            scaledTokens(config.firstLayersFinalTokens, factor, lastChunk, lastChunk);
    } else {
        config.treeTokens =
            scaledTokens(config.treeTokens, factor, config.treeKeyBlock, config.treeKeyBlock);
    }
    if (scaled) *scaled = true;
    return config;
}

hip::Result<AttentionWindow> measureAttentionWindow(hip::Engine& engine,
                                                    const AttentionWindowRequest& request,
                                                    const hip::ProgressCallback& progress,
                                                    const hip::CancelToken& cancel) {
    hip::eval::WindowOptions options;
    options.text = leadingText(request.text, request.keyTokens);
    const int64_t available = engine.countTokens(options.text);
    if (available < 2)
        return hip::makeError(hip::ErrorCode::InvalidArgument,
                              "Read a document first: the window is taken from its text");
    options.contextTokens = std::min(request.keyTokens, available);
    options.queryTokens = std::clamp<int64_t>(request.queryTokens, 1, options.contextTokens);
    options.layer = request.layer;
    options.head = request.head;
    hip::AttentionConfig attention = request.attention;
    if (attention.mode == hip::AttentionConfig::Mode::Dense) attention = engine.attention();
    if (attention.mode == hip::AttentionConfig::Mode::Dense)
        attention = *hip::AttentionConfig::preset("hip-3k");
    bool scaled = false;
    options.attention = windowAttention(attention, options.contextTokens, request.layer, &scaled);

    auto report = hip::eval::measureWindow(engine, options, progress, cancel);
    if (!report) return report.status();
    AttentionWindow window;
    window.layer = request.layer;
    window.head = request.head;
    window.keyTokens = report->keys;
    window.queryBegin = report->firstQuery;
    window.dense = std::move(report->probabilities);
    window.hip = std::move(report->attended);
    window.recall = report->hipRecall;
    window.attention = options.attention;
    window.scaled = scaled;
    return window;
}

} // namespace hip::ui
