#pragma once
// Picks the next token on the GPU (kernels/sampling.h), the same pick as runtime::pickToken:
// only the token comes back to the host.

#include "backend/backend.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/launch_queue.h"

#include <span>

namespace hip::backend {

class CudaSampler {
public:
    CudaSampler(DevicePool& pool, LaunchQueue& queue) : pool_(pool), queue_(queue) {}
    // Allocates the buffers for the usual repetition-penalty windows.
    Status initialize();
    // Runs on the stream after the queued work and waits for the token.
    Result<int32_t> sample(Act logits, std::span<const int32_t> recent,
                           const SamplerOptions& options, double u);

private:
    Status reservePenalizedIds(size_t count);

    DevicePool& pool_;
    LaunchQueue& queue_;
    // The token it picks, and the ids the repetition penalty applies to (uploaded from the pinned
    // mirror).
    DeviceAllocation sampledToken_, penalizedIds_;
    PinnedBuffer hostPenalizedIds_;
};

} // namespace hip::backend
