#pragma once
// A thousand-page book's answer as the reading views receive it, without a model: 1,000 pages of
// 500-700 tokens (about 600K in all) after a short header, a question and an answer after them,
// and an attention trace over 30 layers in which every generated token selects 2,048 keys in
// blocks of 64 (HiP's final stage), besides 256 sink tokens and a window of 1,024. Shared by the
// views' suite (the aggregation) and their benchmark (the paint time).

#include "bridge/attention_mask.h"

#include <hip/attention_config.h>
#include <hip/attention_trace.h>
#include <hip/evaluation.h>

#include <algorithm>
#include <random>

namespace booktrace {

struct SyntheticBook {
    hip::AttentionTrace trace;
    hip::ui::MaskRequest request; // for the middle layer
    std::vector<float> pageHeat;
    hip::eval::LocalityReport locality;
};

constexpr int kPages = 1000;
constexpr int kLayers = 30;
constexpr int kGenerated = 256;
constexpr int kHeaderTokens = 40;
constexpr int kQuestionTokens = 60;
constexpr int64_t kBlock = 64;
constexpr int64_t kSelectedBlocks = 32; // 2,048 keys

inline SyntheticBook makeBook(uint32_t seed = 12) {
    std::mt19937 random(seed);
    SyntheticBook book;
    hip::ui::MaskRequest& request = book.request;
    request.attention = *hip::AttentionConfig::preset("hip-3k");
    request.attention.sinkTokens = 256;
    request.attention.windowTokens = 1024;
    request.layer = kLayers / 2;
    request.documentBegin = kHeaderTokens;
    int64_t position = kHeaderTokens;
    for (int page = 0; page < kPages; ++page) {
        request.pageStarts.push_back(position);
        request.pageNames.push_back(QStringLiteral("page %1").arg(page + 1));
        position += 500 + int64_t(random() % 201);
    }
    request.documentEnd = position;
    const int64_t firstQuery = position + kQuestionTokens;
    request.contextTokens = firstQuery + kGenerated;

    // Each token keeps most of its blocks from the previous one (HiP refreshes its mask every
    // few steps) and moves a few, as decoding does.
    const int64_t blocks = (firstQuery - request.attention.windowTokens) / kBlock;
    std::vector<std::vector<int64_t>> chosen(kLayers);
    for (auto& layer : chosen)
        for (int64_t b = 0; b < kSelectedBlocks; ++b)
            layer.push_back(4 + int64_t(random() % uint32_t(blocks - 4)));
    for (int token = 0; token < kGenerated; ++token) {
        hip::TokenAttention attention;
        attention.position = firstQuery + token;
        for (auto& layer : chosen) {
            layer[random() % layer.size()] = 4 + int64_t(random() % uint32_t(blocks - 4));
            std::vector<int64_t> sorted = layer;
            std::sort(sorted.begin(), sorted.end());
            sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
            std::vector<hip::KeyRange> ranges;
            for (const int64_t block : sorted) {
                if (!ranges.empty() && ranges.back().end == block * kBlock)
                    ranges.back().end += kBlock;
                else
                    ranges.push_back({block * kBlock, (block + 1) * kBlock});
            }
            attention.layers.push_back(std::move(ranges));
        }
        book.trace.tokens.push_back(std::move(attention));
    }

    book.pageHeat.assign(kPages, 0.0f);
    for (float& heat : book.pageHeat)
        heat = float(random() % 100) * 1e-6f;
    book.pageHeat[kPages / 2] = 0.2f; // the page holding the answer

    for (int64_t distance = 1; distance < request.documentEnd; distance *= 2)
        book.locality.distances.push_back(distance);
    for (int layer = 0; layer < kLayers; ++layer) {
        std::vector<double> sigma;
        for (size_t b = 0; b < book.locality.distances.size(); ++b)
            sigma.push_back(1.0 + 0.3 * double(b) + 0.01 * layer);
        book.locality.sigma.push_back(std::move(sigma));
    }
    book.locality.contextTokens = request.documentEnd;
    book.locality.samples = 16;
    return book;
}

} // namespace booktrace
