#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>
#include <vector>

namespace hip::runtime {

std::span<const int32_t> penalizedTokens(std::span<const int32_t> recent,
                                         const SamplerOptions& options) {
    if (options.repetitionPenalty == 1.0f || options.repetitionWindow <= 0) return {};
    return recent.last(std::min(recent.size(), size_t(options.repetitionWindow)));
}

Candidates keptCandidates(std::span<const float> logits, const SamplerOptions& options) {
    Candidates c;
    c.ids.resize(logits.size());
    std::iota(c.ids.begin(), c.ids.end(), 0);
    auto ranksBefore = [&](int32_t a, int32_t b) {
        const float la = logits[size_t(a)], lb = logits[size_t(b)];
        return la > lb || (la == lb && a < b);
    };
    size_t keep = c.ids.size();
    if (options.topK > 0 && size_t(options.topK) < keep) {
        keep = size_t(options.topK);
        std::partial_sort(c.ids.begin(), c.ids.begin() + ptrdiff_t(keep), c.ids.end(), ranksBefore);
    } else {
        std::sort(c.ids.begin(), c.ids.end(), ranksBefore);
    }
    c.ids.resize(keep);

    // Softmax over the candidates at the given temperature (sorted, so the first is the max).
    const float maxLogit = logits[size_t(c.ids[0])];
    c.probabilities.resize(keep);
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        c.probabilities[i] = std::exp((logits[size_t(c.ids[i])] - maxLogit) / options.temperature);
        total += c.probabilities[i];
    }
    for (float& p : c.probabilities)
        p = float(p / total);

    if (options.minP > 0.0f) {
        const float threshold = c.probabilities[0] * options.minP;
        while (keep > 1 && c.probabilities[keep - 1] < threshold)
            --keep;
    }
    if (options.topP < 1.0f) {
        double cumulative = 0.0;
        for (size_t i = 0; i < keep; ++i) {
            cumulative += c.probabilities[i];
            if (cumulative >= options.topP) {
                keep = i + 1;
                break;
            }
        }
    }
    c.ids.resize(keep);
    c.probabilities.resize(keep);
    return c;
}

int32_t pickToken(std::span<float> logits, std::span<const int32_t> recent,
                  const SamplerOptions& options, double u) {
    const std::span<const int32_t> penalized = penalizedTokens(recent, options);
    for (int32_t id : std::unordered_set<int32_t>(penalized.begin(), penalized.end())) {
        if (id < 0 || size_t(id) >= logits.size()) continue;
        float& l = logits[size_t(id)];
        // As in CTRL: shrink positive logits and push negative ones further down.
        l = l > 0 ? l / options.repetitionPenalty : l * options.repetitionPenalty;
    }
    if (options.temperature <= 0.0f)
        return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());

    const Candidates c = keptCandidates(logits, options);
    const double mass = std::accumulate(c.probabilities.begin(), c.probabilities.end(), 0.0);
    double pick = u * mass;
    for (size_t i = 0; i < c.ids.size(); ++i) {
        pick -= c.probabilities[i];
        if (pick <= 0.0) return c.ids[i];
    }
    return c.ids.back();
}

Sampler::Sampler(const SamplerOptions& options) : options_(options), random_(options.seed) {}

double Sampler::draw() {
    if (options_.temperature <= 0.0f) return 0.0;
    return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

} // namespace hip::runtime
