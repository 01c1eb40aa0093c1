#pragma once
// Where HiP's chunk lists live on the GPU (kernels/hip_mask.h): the sizes a configuration needs,
// and the per-layer decode cache of a KV cache (each stage's input at its last refresh, the mask,
// and the step counter of the refresh schedule), as attention/hip_attention.h keeps it on the CPU.

#include "backend/cuda/device_pool.h"
#include "hip/attention_config.h"
#include "hip/attention_trace.h"
#include "kernels/hip_types.h"

#include <cstdint>
#include <vector>

namespace hip::backend {

// Chunks each stage's input may hold for one query block at a context of `capacity` tokens, and
// the mask (the last stage's kept chunks, in any layer).
struct HipListSizes {
    std::vector<int32_t> stageInputs;
    int32_t mask = 0;
    int32_t largest() const;
};
HipListSizes hipListSizes(const AttentionConfig& config, int64_t capacity);

// Chunk lists of `blocks` query blocks, `capacity` chunks each, in one allocation.
struct DeviceChunkLists {
    static Result<DeviceChunkLists> allocate(DevicePool& pool, int32_t blocks, int32_t capacity,
                                             const std::string& what);
    kernels::HipChunkLists view() const;
    DeviceAllocation memory;
    int32_t blocks = 0;
    int32_t capacity = 0;
};

class HipDecodeState {
public:
    // Lists for every layer of a cache of `capacity` tokens under `config`.
    static Result<HipDecodeState> create(DevicePool& pool, const AttentionConfig& config,
                                         int32_t layers, int64_t capacity);

    const AttentionConfig& config() const { return config_; }
    kernels::HipChunkLists stageInput(int32_t layer, size_t stage) const {
        return stageInputs_[size_t(layer) * sizes_.stageInputs.size() + stage].view();
    }
    kernels::HipChunkLists mask(int32_t layer) const { return masks_[size_t(layer)].view(); }
    int32_t* step(int32_t layer) const { return steps_.as<int32_t>() + layer; }

    // A layer whose cache is stale (after a prefill, a dense step or a truncation) refreshes every
    // stage at its next step.
    bool valid(int32_t layer) const { return valid_[size_t(layer)]; }
    void setValid(int32_t layer, bool valid) { valid_[size_t(layer)] = valid; }
    void invalidate() { valid_.assign(valid_.size(), false); }

    // The last decode step's mask of every valid layer, merged (waits for `stream`).
    Result<std::vector<std::vector<KeyRange>>> masks(cudaStream_t stream, int64_t end) const;

private:
    AttentionConfig config_;
    HipListSizes sizes_;
    std::vector<DeviceChunkLists> stageInputs_; // [layer][stage]
    std::vector<DeviceChunkLists> masks_;       // [layer]
    DeviceAllocation steps_;                    // [layer]
    std::vector<bool> valid_;
};

} // namespace hip::backend
