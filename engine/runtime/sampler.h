#pragma once
// Picks the next token from logits: greedy, or temperature sampling filtered by top-k, top-p and
// min-p, with an optional repetition penalty. Deterministic for a given seed.

#include "hip/generation.h"

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace hip::runtime {

class Sampler {
public:
    explicit Sampler(const SamplerOptions& options);

    // `logits` is modified (penalties, temperature). `recent` are the tokens the repetition
    // penalty looks at (only the last options.repetitionWindow are used).
    int32_t sample(std::span<float> logits, std::span<const int32_t> recent);

private:
    SamplerOptions options_;
    std::mt19937_64 random_;
    std::vector<int32_t> candidates_;
    std::vector<float> probabilities_;
};

} // namespace hip::runtime
