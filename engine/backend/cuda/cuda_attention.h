#pragma once
// Attention on the GPU over the paged KV cache: appends each pass's keys (rotated) and values,
// then runs exact attention (flash prefill for several query rows, split-KV decode for one) and,
// while a session traces, the attention mass of a decoded token. supports() is the one place
// that says which attention shapes and configurations this backend runs.

#include "backend/backend.h"
#include "backend/cuda/cuda_kv_cache.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/hip_lists.h"
#include "backend/cuda/launch_queue.h"
#include "backend/cuda/rope_tables.h"
#include "backend/cuda/step_inputs.h"
#include "kernels/flash_prefill.h"

#include <memory>
#include <vector>

namespace hip::backend {

class CudaAttention {
public:
    CudaAttention(DevicePool& pool, LaunchQueue& queue, StepInputs& inputs, int32_t multiprocessors)
        : pool_(pool), queue_(queue), inputs_(inputs), multiprocessors_(multiprocessors),
          qHalf_(pool, "rotated queries") {}

    Status supports(const AttentionParams& params, const AttentionConfig& config) const;
    // A cache was made: rope tables cover its capacity from the start (no growth in decode).
    void cacheCreated(const CudaKvCache& cache) {
        maxCapacity_ = std::max(maxCapacity_, cache.capacity());
    }

    // Queues the attention of the rows of q (positions start...) of `layer`, after appending k
    // and v. Failures of the checks are returned; those of queued work are kept by the queue.
    Status run(CudaKvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
               const AttentionParams& params, Act out);

    // Writes the rows of k and v, again and again, at positions [0, tokens) of `layer` (keys
    // rotated at their positions, as appended), computing no attention: a long context to time
    // attention over without prefilling it. Not during a decode step; waits for the stream.
    Status fillRepeating(CudaKvCache& cache, int32_t layer, int64_t tokens, Act k, Act v,
                         const AttentionParams& params);

    // The recorded decode step is about to run / has been queued: clear the attention mass it
    // adds to, then add it to the session's trace once it ran (waits for the stream).
    Status beforeStep();
    Status afterStep();
    // The recorded step was dropped.
    void forgetStep() { stepMass_ = {}; }

    void setPrefillTile(kernels::PrefillTile tile) { prefillTile_ = tile; }

private:
    Status check(const CudaKvCache& cache, int64_t end, Act q, const AttentionParams& params) const;
    Result<const DeviceRopeTables*> ropeTables(const RopeParams& params, int64_t positions);
    void decode(CudaKvCache& kv, const kernels::KvLayer& layer, const kernels::RopeTables& rope,
                Act q, const AttentionParams& params, Act out, int64_t end);
    void prefill(const kernels::KvLayer& layer, const kernels::RopeTables& rope, int64_t start,
                 Act q, const AttentionParams& params, Act out);
    // HiP (InfiniteHiP): masks per query block, then block-sparse attention; a decode step
    // refreshes the stages its schedule names from the layer's decode cache.
    Status hipPrefill(int32_t layerIndex, const kernels::KvLayer& layer,
                      const kernels::RopeTables& rope, int64_t start, Act q,
                      const AttentionParams& params, int64_t capacity, Act out);
    Status hipDecode(CudaKvCache& kv, int32_t layer, const kernels::KvLayer& layerKv,
                     const kernels::RopeTables& rope, Act q, const AttentionParams& params, Act out,
                     int64_t end);
    Status reserveHipPrefill(const AttentionConfig& config, int32_t blocks,
                             const kernels::KvLayer& layer);
    Status reserveHipDecode(const AttentionParams& params, int64_t keysPerHead, int32_t capacity);
    Status addMassToHost(const CudaKvCache& cache, std::vector<float>& mass, int64_t length);
    // Around a kernel that adds an attention mass over [0, end): clears it first (a decode step
    // clears it in beforeStep), then adds it to `target` now or, in a decode step, once the
    // step ran (afterStep).
    void clearMass(const CudaKvCache& kv, int64_t end);
    Status collectMass(const CudaKvCache& kv, std::vector<float>& target, int64_t end);
    void addExactMass(CudaKvCache& kv, int32_t layer, const kernels::KvLayer& layerKv,
                      const kernels::RopeTables& rope, Act q, const AttentionParams& params,
                      int64_t end);

    DevicePool& pool_;
    LaunchQueue& queue_;
    StepInputs& inputs_;
    int32_t multiprocessors_;
    Workspace qHalf_;
    std::vector<std::unique_ptr<DeviceRopeTables>> ropes_;
    int64_t maxCapacity_ = 0;
    kernels::PrefillTile prefillTile_ = kernels::PrefillTile::WarpRows32;
    PinnedBuffer massCopy_;
    // HiP's scratch: prefill's chunk lists (two stages' alternately, and the masks), chunk
    // scores and the layer's keys unrotated; decode's scores and the sparse kernel's split
    // scratch (zeroed when allocated).
    DeviceChunkLists hipLists_[2], hipMasks_;
    DeviceAllocation hipScores_, hipUnrotatedKeys_, hipDecodeScores_, hipDecodeScratch_;
    int64_t hipDecodeKeys_ = 0; // attended keys per head the decode scratch was sized for

    // Where the decode step being recorded adds its attention mass.
    struct StepMass {
        const CudaKvCache* cache = nullptr;
        std::vector<float>* target = nullptr;
        int64_t length = 0;
    } stepMass_;
};

} // namespace hip::backend
