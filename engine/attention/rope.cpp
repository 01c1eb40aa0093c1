#include "attention/rope.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace hip::attention {

std::vector<double> ropeInverseFrequencies(const backend::RopeParams& params) {
    const int32_t pairs = params.dims / 2;
    std::vector<double> frequencies(static_cast<size_t>(pairs));
    for (int32_t i = 0; i < pairs; ++i) {
        double frequency = std::pow(double(params.freqBase), -2.0 * i / params.dims);
        if (!params.freqFactors.empty()) frequency /= params.freqFactors[size_t(i)];
        frequencies[size_t(i)] = frequency * params.positionScale;
    }
    return frequencies;
}

Rope::Rope(const backend::RopeParams& params)
    : params_(params), inverseFrequency_(ropeInverseFrequencies(params)) {}

void Rope::prepare(int64_t end) {
    const size_t pairs = inverseFrequency_.size();
    const int64_t have = pairs ? int64_t(cosSin_.size() / (2 * pairs)) : end;
    if (end <= have) return;
    // Grow geometrically so a decode loop does not rebuild the table at every step.
    const int64_t target = std::max(end, have * 2);
    cosSin_.resize(size_t(target) * 2 * pairs);
    for (int64_t p = have; p < target; ++p) {
        float* entry = cosSin_.data() + size_t(p) * 2 * pairs;
        for (size_t i = 0; i < pairs; ++i) {
            const double angle = double(p) * inverseFrequency_[i];
            entry[2 * i] = float(std::cos(angle));
            entry[2 * i + 1] = float(std::sin(angle));
        }
    }
}

void Rope::rotate(float* head, int64_t position) const {
    const int32_t pairs = params_.dims / 2;
    assert(size_t(position + 1) * 2 * size_t(pairs) <= cosSin_.size());
    const float* entry = cosSin_.data() + size_t(position) * 2 * size_t(pairs);
    // NORM pairs neighbours (2i, 2i+1); NEOX pairs the two halves (i, i + dims/2).
    const int32_t secondOffset = params_.neox ? pairs : 1;
    const int32_t pairStride = params_.neox ? 1 : 2;
    for (int32_t i = 0; i < pairs; ++i) {
        const float c = entry[2 * i];
        const float s = entry[2 * i + 1];
        float* first = head + i * pairStride;
        float* second = first + secondOffset;
        const float a = *first;
        const float b = *second;
        *first = a * c - b * s;
        *second = a * s + b * c;
    }
}

void Rope::rotateHeads(float* heads, int64_t count, int32_t headDim, int64_t position) const {
    for (int64_t h = 0; h < count; ++h)
        rotate(heads + h * headDim, position);
}

} // namespace hip::attention
