#include "backend/cuda/cuda_backend.h"

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dense_crossover.h"
#include "backend/cuda/step_words.h"
#include "kernels/embedding.h"
#include "kernels/flash_decode.h"
#include "kernels/residual_add.h"
#include "kernels/rms_norm.h"
#include "kernels/swiglu.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace hip::backend {
namespace {

class CudaBuffer final : public Buffer {
public:
    CudaBuffer(DeviceAllocation memory, int64_t floats)
        : memory_(std::move(memory)), floats_(floats) {}
    float* data() override { return memory_.as<float>(); }
    int64_t floats() const override { return floats_; }

private:
    DeviceAllocation memory_;
    int64_t floats_;
};

} // namespace

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(const CudaBackendOptions& options) {
    const int index = options.device >= 0 ? options.device : defaultCudaDevice();
    auto device = queryCudaDevice(index);
    HIP_TRY(device);
    std::unique_ptr<CudaBackend> backend(new CudaBackend(*device, options));
    HIP_TRY(backend->initialize());
    return backend;
}

Status CudaBackend::initialize() {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    HIP_TRY(queue_.initialize());
    HIP_TRY(inputs_.initialize());
    HIP_TRY(products_.initialize());
    HIP_TRY(sampler_.initialize());
    return Status::ok();
}

CudaBackend::~CudaBackend() {
    // Queued work may still read the memory the parts give back.
    if (queue_.stream()) cudaStreamSynchronize(queue_.stream());
}

std::string CudaBackend::name() const {
    return device_.name + " (CUDA, sm_" + std::to_string(device_.computeMajor) +
           std::to_string(device_.computeMinor) + ")";
}

Result<std::unique_ptr<Weight>> CudaBackend::uploadWeight(const WeightView& weight) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    return products_.upload(weight);
}

Result<std::unique_ptr<Buffer>> CudaBackend::allocate(int64_t floats) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    auto memory =
        pool_.allocate(uint64_t(floats) * sizeof(float), DeviceUse::Activations, "activations");
    HIP_TRY(memory);
    return std::unique_ptr<Buffer>(std::make_unique<CudaBuffer>(std::move(*memory), floats));
}

Result<std::unique_ptr<KvCache>> CudaBackend::createKvCache(const KvCacheShape& shape) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    kernels::KvLayer layer;
    layer.kvHeads = shape.kvHeads;
    layer.headDim = shape.headDim;
    layer.capacity = shape.capacity;
    layer.type = options_.kvType;
    const int32_t splits = kernels::decodeSplits(layer, device_.multiprocessors);
    auto cache = CudaKvCache::create(shape, options_.kvType, splits, pool_, queue_.stream());
    HIP_TRY(cache);
    attention_.cacheCreated(**cache);
    return std::unique_ptr<KvCache>(std::move(*cache));
}

Result<DenseCrossover> CudaBackend::prepareAttention(const AttentionParams& params,
                                                     const AttentionConfig& config,
                                                     int64_t contextTokens, int32_t batchRows) {
    if (config.mode != AttentionConfig::Mode::Hip || config.denseBelowTokens)
        return config.fixedCrossover();
    for (const TimedCrossover& t : crossovers_)
        if (t.heads == params.heads && t.kvHeads == params.kvHeads && t.headDim == params.headDim &&
            t.rope == params.rope && t.config == config && t.contextTokens == contextTokens &&
            t.batchRows == batchRows)
            return t.crossover;
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    auto crossover = measureDenseCrossover(*this, params, config, contextTokens, batchRows);
    HIP_TRY(crossover);
    crossovers_.push_back({params.heads, params.kvHeads, params.headDim, params.rope, config,
                           contextTokens, batchRows, *crossover});
    return *crossover;
}

BackendMemory CudaBackend::memory() const {
    BackendMemory memory;
    memory.kvOnDevice = true;
    memory.workspaceBytes = pool_.bytesIn(DeviceUse::Workspace);
    size_t freeBytes = 0, totalBytes = 0;
    if (cudaSetDevice(device_.index) == cudaSuccess &&
        cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
        memory.freeBytes = freeBytes;
        memory.totalBytes = totalBytes;
    }
    return memory;
}

void CudaBackend::abandonStep() {
    if (!queue_.recording()) return;
    queue_.abandonStep();
    attention_.forgetStep();
    inputs_.forget(); // a recorded upload never ran
}

void CudaBackend::embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) {
    flushPending();
    cudaSetDevice(device_.index); // a forward pass may come from another thread than the last
    // One token is a decode step: record it for a graph. Anything else runs eagerly.
    abandonStep();
    if (tokens.size() == 1) {
        queue_.beginStep();
        inputs_.beginStep();
    }
    queue_.fail(inputs_.uploadTokens(tokens));
    const void* data = table.view().data;
    const quant::GgmlType type = table.view().type;
    const int64_t rowBytes = int64_t(*quant::rowBytes(type, table.view().cols));
    const int32_t* ids = inputs_.tokens();
    queue_.identify({word(StepOp::Embed), word(data), word(out)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::embed(data, type, rowBytes, ids, rows(out), s),
                          "the embedding kernel");
    });
}

void CudaBackend::rmsNorm(Act x, const Weight& gamma, float eps, Act out) {
    products_.flush(); // none while an add is pending: addInPlace flushed them
    const auto* g = static_cast<const float*>(gamma.view().data);
    if (pendingAdd_ && sameAct(pendingX_, x)) {
        pendingAdd_ = false;
        const Act y = pendingY_;
        queue_.identify(
            {word(StepOp::AddRmsNorm), word(x), word(y), word(g), word(eps), word(out)});
        queue_.submit([=](cudaStream_t s) {
            const kernels::Rows residual = rows(y);
            return cudaStatus(kernels::rmsNorm(rows(x), &residual, g, eps, rows(out), s),
                              "the add + RMSNorm kernel");
        });
        return;
    }
    flushPendingAdd();
    queue_.identify({word(StepOp::RmsNorm), word(x), word(g), word(eps), word(out)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::rmsNorm(rows(x), nullptr, g, eps, rows(out), s),
                          "the RMSNorm kernel");
    });
}

void CudaBackend::addInPlace(Act x, Act y) {
    flushPending();
    pendingAdd_ = true;
    pendingX_ = x;
    pendingY_ = y;
}

void CudaBackend::flushPendingAdd() {
    if (!pendingAdd_) return;
    pendingAdd_ = false;
    const Act x = pendingX_, y = pendingY_;
    queue_.identify({word(StepOp::Add), word(x), word(y)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::addInPlace(rows(x), rows(y), s), "the residual add kernel");
    });
}

void CudaBackend::swiglu(Act gate, Act up, Act out) {
    flushPending();
    queue_.identify({word(StepOp::Swiglu), word(gate), word(up), word(out)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::swiglu(rows(gate), rows(up), rows(out), s), "the SwiGLU kernel");
    });
}

void CudaBackend::matmul(Act x, const Weight& w, const Weight* bias, Act out) {
    flushPendingAdd();
    products_.matmul(x, w, bias, out);
}

Status CudaBackend::attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                              const AttentionParams& params, Act out) {
    flushPending();
    cudaSetDevice(device_.index);
    queue_.fail(
        attention_.run(static_cast<CudaKvCache&>(cache), layer, start, q, k, v, params, out));
    Status result = queue_.takeError();
    if (!result.isOk()) abandonStep();
    return result;
}

// Runs the recorded decode step as a graph, with the attention mass cleared before it and added
// to the trace after it.
Status CudaBackend::finishStep() {
    // A step recorded against memory that has since been reallocated is another step.
    queue_.identify({pool_.generation()});
    if (queue_.failed()) {
        abandonStep();
        return queue_.takeError();
    }
    Status status = attention_.beforeStep();
    if (!status.isOk()) {
        abandonStep();
        return status;
    }
    status = queue_.runStep();
    if (!status.isOk()) {
        attention_.forgetStep();
        return status;
    }
    return attention_.afterStep();
}

void CudaBackend::copyToHost(Act x, float* dst) {
    flushPending();
    if (queue_.recording()) queue_.fail(finishStep());
    const uint64_t rowBytes = uint64_t(x.cols) * sizeof(float);
    const uint64_t bytes = rowBytes * uint64_t(x.rows);
    const cudaStream_t stream = queue_.stream();
    Status status = queue_.takeError();
    if (status.isOk() && hostCopy_.bytes() < bytes) {
        status = cudaStatus(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        if (status.isOk()) {
            auto grown = PinnedBuffer::allocate(bytes);
            if (grown)
                hostCopy_ = std::move(*grown);
            else
                status = grown.status();
        }
    }
    if (status.isOk())
        status = cudaStatus(cudaMemcpy2DAsync(hostCopy_.as<float>(), rowBytes, x.data,
                                              size_t(x.stride) * sizeof(float), rowBytes,
                                              size_t(x.rows), cudaMemcpyDeviceToHost, stream),
                            "copying results to the host");
    if (status.isOk())
        status = cudaStatus(cudaStreamSynchronize(stream), "running the forward pass");
    if (status.isOk()) {
        std::memcpy(dst, hostCopy_.as<float>(), bytes);
        pool_.releaseRetired();
    } else {
        // The caller gets NaNs, and the error comes back from the next attention or takeError.
        std::fill(dst, dst + x.rows * x.cols, std::numeric_limits<float>::quiet_NaN());
        queue_.fail(status);
    }
}

Result<int32_t> CudaBackend::sampleToken(Act logits, std::span<const int32_t> recent,
                                         const SamplerOptions& options, double u) {
    flushPending();
    if (queue_.recording()) queue_.fail(finishStep());
    HIP_TRY(queue_.takeError());
    return sampler_.sample(logits, recent, options, u);
}

Result<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions& options) {
    auto backend = CudaBackend::create(options);
    HIP_TRY(backend);
    return std::unique_ptr<Backend>(std::move(*backend));
}

} // namespace hip::backend
