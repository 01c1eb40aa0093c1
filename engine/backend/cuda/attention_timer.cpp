#include "backend/cuda/attention_timer.h"

#include "backend/cuda/cuda_check.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace hip::backend {
namespace {

double microsSince(std::chrono::steady_clock::time_point begin) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin)
        .count();
}

} // namespace

Result<std::unique_ptr<AttentionTimer>> AttentionTimer::create(CudaBackend& backend,
                                                               const AttentionParams& shape,
                                                               int64_t maxContext,
                                                               int32_t prefillRows) {
    if (maxContext < prefillRows || prefillRows < 1)
        return makeError(ErrorCode::InvalidArgument,
                         "timing attention needs a context of at least one prefill pass");
    std::unique_ptr<AttentionTimer> timer(new AttentionTimer(backend, shape, prefillRows));
    HIP_TRY(timer->initialize(maxContext));
    return timer;
}

AttentionTimer::~AttentionTimer() = default;

Status AttentionTimer::initialize(int64_t maxContext) {
    auto cache =
        backend_.createKvCache({1, shape_.kvHeads, shape_.headDim, maxContext + 2 * kSteps + 1});
    HIP_TRY(cache);
    cache_ = std::move(*cache);
    const int64_t qCols = int64_t(shape_.heads) * shape_.headDim;
    const int64_t kvCols = int64_t(shape_.kvHeads) * shape_.headDim;
    const struct {
        Act* act;
        int64_t rows, cols;
    } slots[] = {{&prefillQ_, prefillRows_, qCols},
                 {&prefillKv_, prefillRows_, kvCols},
                 {&prefillOut_, prefillRows_, qCols},
                 {&stepQ_, 1, qCols},
                 {&stepKv_, 1, kvCols},
                 {&stepOut_, 1, qCols},
                 {&small_, 1, 64}};
    for (const auto& slot : slots) {
        auto act = activation(slot.rows, slot.cols);
        HIP_TRY(act);
        *slot.act = *act;
    }
    const std::vector<float> row(64, 0.5f);
    auto table = backend_.uploadWeight({"timing table", quant::GgmlType::F32, 1, 64, row.data()});
    HIP_TRY(table);
    table_ = std::move(*table);
    return Status::ok();
}

// Queries, keys and values in [-1, 1): what a layer's projections give, roughly, after the norm.
Result<Act> AttentionTimer::activation(int64_t rows, int64_t cols) {
    auto buffer = backend_.allocate(rows * cols);
    HIP_TRY(buffer);
    std::vector<float> host(size_t(rows * cols));
    uint64_t state = 0x2545f4914f6cdd1du + uint64_t(buffers_.size());
    for (float& value : host) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        value = float(int32_t(state >> 40) - (1 << 23)) / float(1 << 23);
    }
    HIP_CUDA_TRY(cudaMemcpy((*buffer)->data(), host.data(), host.size() * sizeof(float),
                            cudaMemcpyHostToDevice),
                 "uploading random activations");
    buffers_.push_back(std::move(*buffer));
    return Act{buffers_.back()->data(), rows, cols, cols};
}

Status AttentionTimer::fill(int64_t context) {
    if (context > cache_->capacity())
        return makeError(ErrorCode::InvalidArgument, "timing attention past the scratch cache");
    if (context > filled_) {
        // The prefill pass's random keys, repeated: rotation at each position makes them differ.
        HIP_TRY(backend_.fillKvRepeating(*cache_, 0, context, prefillKv_, prefillKv_, shape_));
        filled_ = context;
    }
    return Status::ok();
}

AttentionParams AttentionTimer::paramsFor(const AttentionConfig& config) {
    timedConfig_ = config;
    timedConfig_.firstLayers = 0;
    AttentionParams params = shape_;
    params.config = &timedConfig_;
    params.crossover = DenseCrossover{0, 0, false};
    return params;
}

Result<double> AttentionTimer::prefillMicros(const AttentionConfig& config, int64_t context) {
    HIP_TRY(fill(context));
    const AttentionParams params = paramsFor(config);
    std::vector<float> host(64);
    std::vector<double> samples;
    for (int pass = 0; pass < 4; ++pass) {
        const auto begin = std::chrono::steady_clock::now();
        HIP_TRY(backend_.attention(*cache_, 0, context - prefillRows_, prefillQ_, prefillKv_,
                                   prefillKv_, params, prefillOut_));
        backend_.copyToHost(small_, host.data());
        HIP_TRY(backend_.takeError());
        if (pass > 0) samples.push_back(microsSince(begin)); // the first one allocates
    }
    std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
    return samples[samples.size() / 2];
}

Result<double> AttentionTimer::decodeStepMicros(const AttentionConfig* config, int64_t context) {
    HIP_TRY(fill(context));
    const AttentionParams params = config ? paramsFor(*config) : shape_;
    std::vector<float> host(64);
    // Steps at positions context... (overwriting the random keys there); the first kSteps
    // capture the graphs and warm the HiP stage caches.
    const auto steps = [&](int64_t firstPosition) -> Result<double> {
        const auto begin = std::chrono::steady_clock::now();
        for (int i = 0; i < kSteps; ++i) {
            backend_.embed(*table_, {0}, small_);
            if (config)
                HIP_TRY(backend_.attention(*cache_, 0, firstPosition + i, stepQ_, stepKv_, stepKv_,
                                           params, stepOut_));
            backend_.copyToHost(small_, host.data());
        }
        HIP_TRY(backend_.takeError());
        return microsSince(begin) / kSteps;
    };
    HIP_TRY(steps(context));
    return steps(context + kSteps);
}

} // namespace hip::backend
