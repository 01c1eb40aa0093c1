#include "backend/cuda/cuda_sampler.h"

#include "backend/cuda/cuda_check.h"
#include "kernels/sampling.h"

#include <algorithm>

namespace hip::backend {
namespace {

// Repetition-penalty ids the buffers hold from the start (the default window is 64).
constexpr size_t kInitialPenalizedIds = 1024;

} // namespace

Status CudaSampler::initialize() {
    auto token = pool_.allocate(sizeof(int32_t), DeviceUse::Workspace, "the sampled token");
    HIP_TRY(token);
    sampledToken_ = std::move(*token);
    return reservePenalizedIds(kInitialPenalizedIds);
}

// Grows the penalized-id buffers to hold `count` ids. Sampling waits for its kernel, so the old
// ones are idle.
Status CudaSampler::reservePenalizedIds(size_t count) {
    const uint64_t bytes = count * sizeof(int32_t);
    if (bytes <= penalizedIds_.bytes()) return Status::ok();
    auto device = pool_.allocate(bytes, DeviceUse::Workspace, "the repetition penalty's token ids");
    HIP_TRY(device);
    auto host = PinnedBuffer::allocate(bytes);
    HIP_TRY(host);
    pool_.retire(std::move(penalizedIds_));
    penalizedIds_ = std::move(*device);
    hostPenalizedIds_ = std::move(*host);
    return Status::ok();
}

Result<int32_t> CudaSampler::sample(Act logits, std::span<const int32_t> recent,
                                    const SamplerOptions& options, double u) {
    const cudaStream_t stream = queue_.stream();
    const std::span<const int32_t> penalized = runtime::penalizedTokens(recent, options);
    HIP_TRY(reservePenalizedIds(penalized.size()));
    int32_t* ids = penalizedIds_.as<int32_t>();
    if (!penalized.empty()) {
        std::copy(penalized.begin(), penalized.end(), hostPenalizedIds_.as<int32_t>());
        HIP_CUDA_TRY(cudaMemcpyAsync(ids, hostPenalizedIds_.as<int32_t>(), penalized.size_bytes(),
                                     cudaMemcpyHostToDevice, stream),
                     "uploading the penalized token ids");
    }
    const kernels::SamplingParams params{options.temperature, options.topK, options.topP,
                                         options.minP, options.repetitionPenalty};
    int32_t* device = sampledToken_.as<int32_t>();
    HIP_CUDA_TRY(kernels::sampleToken(logits.data, logits.cols, ids, int32_t(penalized.size()),
                                      params, u, device, stream),
                 "the sampling kernel");
    int32_t token = 0;
    HIP_CUDA_TRY(cudaMemcpyAsync(&token, device, sizeof token, cudaMemcpyDeviceToHost, stream),
                 "copying the sampled token");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "sampling the next token");
    pool_.releaseRetired();
    return token;
}

} // namespace hip::backend
