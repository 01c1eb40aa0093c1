#pragma once
// Memory the engine would need (estimate, before loading) and uses (report, after loading).

#include "hip/device.h"

#include <cstdint>
#include <string>

namespace hip {

struct MemoryEstimate {
    Device device = Device::Cpu; // where the load would run (never Automatic)
    uint64_t weightBytes = 0;    // model weights as the backend stores them
    uint64_t kvBytes = 0;        // KV cache for `contextTokens`
    uint64_t scratchBytes = 0;   // activations and workspaces
    int64_t contextTokens = 0;
    uint64_t availableBytes = 0;  // what the target device reports free now, or the GPU budget
    bool limitedByBudget = false; // availableBytes is LoadOptions::gpuMemoryBudget, below free
    uint64_t totalBytes() const { return weightBytes + kvBytes + scratchBytes; }
    bool fits() const { return totalBytes() <= availableBytes; }
    // The longest context whose KV cache fits beside the weights and scratch (0: none does).
    int64_t maxContextTokens() const {
        const uint64_t fixed = weightBytes + scratchBytes;
        if (contextTokens <= 0 || kvBytes == 0 || fixed >= availableBytes) return 0;
        return int64_t((availableBytes - fixed) / (kvBytes / uint64_t(contextTokens)));
    }
};

struct MemoryReport {
    std::string device;         // "CPU (2 threads)", "NVIDIA H100 80GB HBM3"
    uint64_t weightBytes = 0;   // resident model weights
    uint64_t kvDeviceBytes = 0; // KV cache (and HiP caches) in the compute device's memory
    uint64_t kvHostBytes = 0;   // KV offloaded to host memory
    uint64_t scratchBytes = 0;
    uint64_t deviceFreeBytes = 0;
    uint64_t deviceTotalBytes = 0;
};

} // namespace hip
