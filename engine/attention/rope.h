#pragma once
// Rotary position embedding on the CPU, at arbitrary positions (HiP remaps key positions, so keys
// are rotated when they are read, not when they are stored). Angles come from a table grown on
// demand, because attention rotates every cached key at every step.

#include "backend/backend.h"

#include <cstdint>
#include <vector>

namespace hip::attention {

// The angle per position of each rotated pair (factors and scaling applied), in double precision:
// the CPU's table and the GPU's are both built from these.
std::vector<double> ropeInverseFrequencies(const backend::RopeParams& params);

class Rope {
public:
    explicit Rope(const backend::RopeParams& params);

    // Grows the angle table to cover positions [0, end). Not thread-safe: call it before a
    // parallel loop that rotates.
    void prepare(int64_t end);
    // Rotates the first `dims` values of one head vector as if it sat at `position` (< prepared
    // end).
    void rotate(float* head, int64_t position) const;
    // Rotates `count` head vectors (consecutive, `headDim` apart) at the same position.
    void rotateHeads(float* heads, int64_t count, int32_t headDim, int64_t position) const;

    const backend::RopeParams& params() const { return params_; }

private:
    backend::RopeParams params_;
    std::vector<double> inverseFrequency_; // per rotated pair, factors and scaling applied
    std::vector<float> cosSin_;            // [position][pair] (cos, sin)
};

} // namespace hip::attention
