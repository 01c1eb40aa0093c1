#pragma once
// Picks the next token from logits: greedy, or temperature sampling filtered by top-k, top-p and
// min-p, with an optional repetition penalty. The random draw is separate from the pick, so a
// backend can pick on its own device with the same number (Backend::sampleToken) and a seed gives
// the same tokens everywhere.

#include "hip/generation.h"

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace hip::runtime {

// The tokens the repetition penalty applies to: the last options.repetitionWindow of `recent`, or
// none when the penalty is off.
std::span<const int32_t> penalizedTokens(std::span<const int32_t> recent,
                                         const SamplerOptions& options);

// The deterministic part of sampling. First divides positive logits of penalizedTokens(recent)
// by the penalty and multiplies negative ones (each distinct token once, in place). Greedy
// (temperature <= 0) returns the first largest logit. Otherwise the candidates are the topK
// largest logits, in descending order (equal logits rank by token id, lower first, so the order
// does not depend on the sort), with their softmax at the temperature; min-p drops those below
// minP times the top probability (the top one always stays), top-p keeps them up to the first
// whose cumulative probability reaches topP, and the pick is the first candidate whose
// cumulative probability reaches u times the probability kept. `u` is uniform in [0, 1).
int32_t pickToken(std::span<float> logits, std::span<const int32_t> recent,
                  const SamplerOptions& options, double u);

// The candidates pickToken chooses from (temperature > 0, logits already penalized), best first:
// ids and probabilities (their softmax over the top k), min-p and top-p applied.
struct Candidates {
    std::vector<int32_t> ids;
    std::vector<float> probabilities;
};
Candidates keptCandidates(std::span<const float> logits, const SamplerOptions& options);

class Sampler {
public:
    explicit Sampler(const SamplerOptions& options);

    const SamplerOptions& options() const { return options_; }
    // The `u` of the next pick. Greedy picks draw nothing (0), so a seed's sequence of draws
    // depends only on the sampled steps.
    double draw();

private:
    SamplerOptions options_;
    std::mt19937_64 random_;
};

} // namespace hip::runtime
