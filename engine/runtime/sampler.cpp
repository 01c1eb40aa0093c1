#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace hip::runtime {

Sampler::Sampler(const SamplerOptions& options) : options_(options), random_(options.seed) {}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> recent) {
    if (options_.repetitionPenalty != 1.0f && options_.repetitionWindow > 0) {
        const size_t window = std::min(recent.size(), size_t(options_.repetitionWindow));
        std::unordered_set<int32_t> seen(recent.end() - ptrdiff_t(window), recent.end());
        for (int32_t id : seen) {
            if (id < 0 || size_t(id) >= logits.size()) continue;
            float& l = logits[size_t(id)];
            // As in CTRL: shrink positive logits and push negative ones further down.
            l = l > 0 ? l / options_.repetitionPenalty : l * options_.repetitionPenalty;
        }
    }
    if (options_.temperature <= 0.0f)
        return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());

    candidates_.resize(logits.size());
    std::iota(candidates_.begin(), candidates_.end(), 0);
    auto byLogit = [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; };
    size_t keep = candidates_.size();
    if (options_.topK > 0 && size_t(options_.topK) < keep) {
        keep = size_t(options_.topK);
        std::partial_sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(keep),
                          candidates_.end(), byLogit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), byLogit);
    }
    candidates_.resize(keep);

    // Softmax over the candidates at the given temperature (sorted, so the first is the max).
    const float maxLogit = logits[size_t(candidates_[0])];
    probabilities_.resize(keep);
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        probabilities_[i] =
            std::exp((logits[size_t(candidates_[i])] - maxLogit) / options_.temperature);
        total += probabilities_[i];
    }
    for (float& p : probabilities_)
        p = float(p / total);

    if (options_.minP > 0.0f) {
        const float threshold = probabilities_[0] * options_.minP;
        while (keep > 1 && probabilities_[keep - 1] < threshold)
            --keep;
    }
    if (options_.topP < 1.0f) {
        double cumulative = 0.0;
        for (size_t i = 0; i < keep; ++i) {
            cumulative += probabilities_[i];
            if (cumulative >= options_.topP) {
                keep = i + 1;
                break;
            }
        }
    }

    const double mass =
        std::accumulate(probabilities_.begin(), probabilities_.begin() + ptrdiff_t(keep), 0.0);
    double pick = std::uniform_real_distribution<double>(0.0, mass)(random_);
    for (size_t i = 0; i < keep; ++i) {
        pick -= probabilities_[i];
        if (pick <= 0.0) return candidates_[i];
    }
    return candidates_[keep - 1];
}

} // namespace hip::runtime
