#pragma once
// The CUDA backend: the Backend interface over parts with one job each. Weights stay in their
// file format (cuda_products.h), activations are fp32, the KV cache is paged fp16 or bf16
// (cuda_kv_cache.h), attention runs over its pages (cuda_attention.h), sampling happens on the
// device (cuda_sampler.h). Everything is queued on one stream (launch_queue.h); a decode step is
// recorded and runs as one CUDA graph (backend.h describes the calls that make a step).

#include "backend/backend.h"
#include "backend/cuda/cuda_attention.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_kv_cache.h"
#include "backend/cuda/cuda_products.h"
#include "backend/cuda/cuda_sampler.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/launch_queue.h"
#include "backend/cuda/step_inputs.h"
#include "kernels/flash_prefill.h"
#include "kernels/kernel_types.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace hip::backend {

struct CudaBackendOptions {
    int device = -1; // -1: defaultCudaDevice()
    kernels::Half16 kvType = kernels::Half16::F16;
    // The most bytes of GPU memory the backend may allocate (weights, KV cache, scratch; not the
    // CUDA context and cuBLAS's own memory); 0: no limit beyond the device.
    uint64_t memoryBudget = 0;
};

class CudaBackend final : public Backend {
public:
    static Result<std::unique_ptr<CudaBackend>> create(const CudaBackendOptions& options = {});
    ~CudaBackend() override;

    std::string name() const override;
    Result<std::unique_ptr<Weight>> uploadWeight(const WeightView& weight) override;
    Result<std::unique_ptr<Buffer>> allocate(int64_t floats) override;
    Result<std::unique_ptr<KvCache>> createKvCache(const KvCacheShape& shape) override;
    uint64_t kvBytesPerToken(const KvCacheShape& shape) const override {
        return CudaKvCache::bytesPerToken(shape.layers, shape.kvHeads, shape.headDim);
    }
    void embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) override;
    void rmsNorm(Act x, const Weight& gamma, float eps, Act out) override;
    void matmul(Act x, const Weight& w, const Weight* bias, Act out) override;
    void addInPlace(Act x, Act y) override;
    void swiglu(Act gate, Act up, Act out) override;
    Status attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                     const AttentionParams& params, Act out) override;
    void copyToHost(Act x, float* dst) override;
    Result<int32_t> sampleToken(Act logits, std::span<const int32_t> recent,
                                const SamplerOptions& options, double u) override;
    BackendMemory memory() const override;
    Status takeError() override { return queue_.takeError(); }
    Status supportsAttention(const AttentionParams& params,
                             const AttentionConfig& config) const override {
        return attention_.supports(params, config);
    }
    // HiP configurations that leave the crossover open are timed (dense_crossover.h), once per
    // shape, configuration, context and batch.
    Result<DenseCrossover> prepareAttention(const AttentionParams& params,
                                            const AttentionConfig& config, int64_t contextTokens,
                                            int32_t batchRows) override;
    // CudaAttention::fillRepeating: a long context to time attention over.
    Status fillKvRepeating(KvCache& cache, int32_t layer, int64_t tokens, Act k, Act v,
                           const AttentionParams& params) {
        return attention_.fillRepeating(static_cast<CudaKvCache&>(cache), layer, tokens, k, v,
                                        params);
    }

    const CudaDeviceInfo& device() const { return device_; }
    cudaStream_t stream() const { return queue_.stream(); }
    uint64_t graphReplays() const { return queue_.replays(); }
    // The prefill attention tile shape (benchmarks compare them).
    void setPrefillTile(kernels::PrefillTile tile) { attention_.setPrefillTile(tile); }

private:
    CudaBackend(const CudaDeviceInfo& device, const CudaBackendOptions& options)
        : device_(device), options_(options), pool_(options.memoryBudget), inputs_(pool_, queue_),
          products_(pool_, queue_), attention_(pool_, queue_, inputs_, device.multiprocessors),
          sampler_(pool_, queue_) {}
    Status initialize();

    // Deferred work (pending products, then a pending add) runs before a call's own work.
    void flushPending() {
        products_.flush();
        flushPendingAdd();
    }
    void flushPendingAdd();
    // Ends a recorded decode step: runs its graph (with the attention mass around it).
    Status finishStep();
    void abandonStep();

    CudaDeviceInfo device_;
    CudaBackendOptions options_;
    DevicePool pool_; // first in, last out: every part's memory returns to it
    LaunchQueue queue_;
    StepInputs inputs_;
    CudaProducts products_;
    CudaAttention attention_;
    CudaSampler sampler_;
    PinnedBuffer hostCopy_; // staging for copyToHost

    // Crossovers timed so far.
    struct TimedCrossover {
        int32_t heads, kvHeads, headDim;
        RopeParams rope;
        AttentionConfig config;
        int64_t contextTokens;
        int32_t batchRows;
        DenseCrossover crossover;
    };
    std::vector<TimedCrossover> crossovers_;

    // An addInPlace waiting to be fused into the RMSNorm that usually follows it.
    bool pendingAdd_ = false;
    Act pendingX_, pendingY_;
};

// Creates the backend on the device options.device names (or the default one).
Result<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions& options = {});

} // namespace hip::backend
