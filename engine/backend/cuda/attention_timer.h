#pragma once
// Times one attention layer through the CUDA backend as the engine runs it, over a scratch cache
// of one layer holding pseudo-random keys and values and with random queries. The layer is timed
// as one after HiP's first layers (most layers are such). The dense/HiP crossover measurement and
// the benchmarks use it. Not during a forward pass: it runs passes of its own.

#include "backend/cuda/cuda_backend.h"

#include <memory>
#include <vector>

namespace hip::backend {

class AttentionTimer {
public:
    // Decode steps timed per measurement, after as many of warm-up (graphs captured).
    static constexpr int kSteps = 32;

    // A scratch cache for contexts of up to `maxContext` tokens (and the decode steps after
    // them), prefill passes of `prefillRows` queries. `shape` gives heads, head dim and rope.
    static Result<std::unique_ptr<AttentionTimer>> create(CudaBackend& backend,
                                                          const AttentionParams& shape,
                                                          int64_t maxContext, int32_t prefillRows);
    ~AttentionTimer();

    // Median wall-clock microseconds of a prefill pass: the last prefillRows queries of a context
    // of `context` tokens, attended as `config` says at every length (dense or HiP), host work
    // included.
    Result<double> prefillMicros(const AttentionConfig& config, int64_t context);
    // Microseconds of a decode step at `context` (a recorded graph: embedding, attention, a copy
    // of 64 floats to the host) averaged over kSteps steps; without attention when `config` is
    // null (the step's own cost, which benchmarks subtract).
    Result<double> decodeStepMicros(const AttentionConfig* config, int64_t context);

private:
    AttentionTimer(CudaBackend& backend, const AttentionParams& shape, int32_t prefillRows)
        : backend_(backend), shape_(shape), prefillRows_(prefillRows) {}
    Status initialize(int64_t maxContext);
    // Random keys and values up to `context` (filled once, growing).
    Status fill(int64_t context);
    Result<Act> activation(int64_t rows, int64_t cols);
    // `config` as the timed layer runs it: a normal layer, HiP at every length (or dense).
    AttentionParams paramsFor(const AttentionConfig& config);

    CudaBackend& backend_;
    AttentionParams shape_;
    int32_t prefillRows_;
    std::unique_ptr<KvCache> cache_;
    int64_t filled_ = 0;
    std::vector<std::unique_ptr<Buffer>> buffers_;
    std::unique_ptr<Weight> table_; // a one-row embedding table that starts each decode step
    std::vector<float> tableValues_;
    Act prefillQ_, prefillKv_, prefillOut_, stepQ_, stepKv_, stepOut_, small_;
    AttentionConfig timedConfig_;
};

} // namespace hip::backend
