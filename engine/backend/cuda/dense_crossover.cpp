#include "backend/cuda/dense_crossover.h"

#include "backend/cuda/attention_timer.h"

#include <algorithm>
#include <cmath>

namespace hip::backend {
namespace {

// One phase's search: the longest context where dense won and the shortest where HiP did.
struct Crossing {
    bool decode = false;
    int64_t denseWon = 0;
    int64_t hipWon = 0; // 0: not yet
};

} // namespace

Result<DenseCrossover> measureDenseCrossover(CudaBackend& backend, const AttentionParams& shape,
                                             const AttentionConfig& config, int64_t contextTokens,
                                             int32_t prefillRows) {
    const uint64_t perToken = CudaKvCache::bytesPerToken(1, shape.kvHeads, shape.headDim);
    const uint64_t scratch = std::min(kCrossoverScratchBytes, backend.memory().freeBytes / 4);
    const int64_t longest = std::min<int64_t>(contextTokens, int64_t(scratch / perToken));
    if (longest < std::max<int64_t>(kCrossoverFirstTokens, prefillRows))
        return config.fixedCrossover();
    auto timer = AttentionTimer::create(backend, shape, longest, prefillRows);
    if (!timer && timer.status().code() == ErrorCode::OutOfMemory) return config.fixedCrossover();
    HIP_TRY(timer);

    const AttentionConfig dense;
    const auto hipFaster = [&](bool decode, int64_t context) -> Result<bool> {
        auto denseTime = decode ? (*timer)->decodeStepMicros(&dense, context)
                                : (*timer)->prefillMicros(dense, context);
        HIP_TRY(denseTime);
        auto hipTime = decode ? (*timer)->decodeStepMicros(&config, context)
                              : (*timer)->prefillMicros(config, context);
        HIP_TRY(hipTime);
        return *hipTime < *denseTime;
    };
    Crossing phases[2];
    phases[1].decode = true;
    for (int64_t context = kCrossoverFirstTokens;; context = std::min(2 * context, longest)) {
        for (Crossing& phase : phases) {
            if (phase.hipWon) continue;
            auto faster = hipFaster(phase.decode, context);
            HIP_TRY(faster);
            (*faster ? phase.hipWon : phase.denseWon) = context;
        }
        if ((phases[0].hipWon && phases[1].hipWon) || context == longest) break;
    }
    // Two halvings of the interval on a log scale: within a factor of 2^(1/4) of the crossing.
    for (Crossing& phase : phases) {
        for (int step = 0; step < 2 && phase.hipWon && phase.denseWon; ++step) {
            const int64_t middle =
                int64_t(std::sqrt(double(phase.denseWon) * double(phase.hipWon))) / 1024 * 1024;
            if (middle <= phase.denseWon || middle >= phase.hipWon) break;
            auto faster = hipFaster(phase.decode, middle);
            HIP_TRY(faster);
            (*faster ? phase.hipWon : phase.denseWon) = middle;
        }
    }
    const auto from = [&](const Crossing& phase) {
        if (phase.hipWon) return phase.hipWon;
        return longest < contextTokens ? longest : contextTokens + 1;
    };
    return DenseCrossover{from(phases[0]), from(phases[1]), true};
}

} // namespace hip::backend
