#pragma once
// Where HiP attention becomes faster than dense attention for one model's attention shape on this
// GPU. HiP costs less per key but more per pass (mask estimation, several kernels), so short
// contexts run faster dense; where they cross depends on the shape, the configuration, the
// phase (a prefill pass of the engine's batch, a decode step) and the card, so it is timed.

#include "backend/cuda/cuda_backend.h"

namespace hip::backend {

inline constexpr int64_t kCrossoverFirstTokens = 4096;
inline constexpr uint64_t kCrossoverScratchBytes = uint64_t(512) << 20;

// Times dense and HiP (`config`) prefill passes of `prefillRows` queries and decode steps at
// contexts doubling from kCrossoverFirstTokens up to `contextTokens` (or what a scratch layer of
// kCrossoverScratchBytes, at most a quarter of the free memory, holds), then narrows each phase's
// crossing between the last length where dense won and the first where HiP did. HiP's layers
// run sparse from the returned lengths; where HiP never won, from the longest length timed when
// memory cut the timing short (HiP's cost grows more slowly), else from contextTokens + 1 (never
// within it). A device too short of memory to time the first length gets the configuration's
// fixed values.
Result<DenseCrossover> measureDenseCrossover(CudaBackend& backend, const AttentionParams& shape,
                                             const AttentionConfig& config, int64_t contextTokens,
                                             int32_t prefillRows);

} // namespace hip::backend
