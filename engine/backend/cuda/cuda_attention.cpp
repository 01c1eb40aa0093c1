#include "backend/cuda/cuda_attention.h"

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/step_words.h"
#include "kernels/attention_mass.h"
#include "kernels/flash_decode.h"
#include "kernels/kv_append.h"
#include "kernels/rope.h"

#include <algorithm>

namespace hip::backend {

Status CudaAttention::supports(const AttentionParams& params, const AttentionConfig& config) const {
    const int32_t d = params.headDim;
    const RopeParams& rope = params.rope;
    std::string problem;
    if (config.mode != AttentionConfig::Mode::Dense)
        problem = "HiP attention (" + config.name +
                  ") yet; load the model on the CPU or choose "
                  "dense attention";
    else if (!kernels::attentionSupportsHeadDim(d))
        problem = "head dimension " + std::to_string(d) + " (supported: 32, 64, 96, 128)";
    else if (params.kvHeads <= 0 || params.heads % params.kvHeads != 0)
        problem = std::to_string(params.heads) + " query heads over " +
                  std::to_string(params.kvHeads) + " KV heads";
    else if (params.heads / params.kvHeads > CudaKvCache::kMaxGroup)
        problem =
            "more than " + std::to_string(CudaKvCache::kMaxGroup) + " query heads per KV head";
    else if (rope.dims > d || rope.dims % 2 != 0)
        problem = "rotary dimensions " + std::to_string(rope.dims);
    if (!problem.empty())
        return makeError(ErrorCode::Unsupported,
                         "the CUDA attention kernels do not support " + problem);
    return Status::ok();
}

Status CudaAttention::check(const CudaKvCache& cache, int64_t end, Act q,
                            const AttentionParams& params) const {
    if (end > cache.capacity())
        return makeError(ErrorCode::InvalidArgument,
                         "the context is full: " + std::to_string(end) + " tokens needed, " +
                             std::to_string(cache.capacity()) + " allowed");
    static const AttentionConfig dense;
    HIP_TRY(supports(params, params.config ? *params.config : dense));
    if (q.rows == 1 && cache.attentionMass && params.heads > 64)
        return makeError(ErrorCode::Unsupported, "the CUDA attention kernels do not support an "
                                                 "attention trace over more than 64 heads");
    return Status::ok();
}

Result<const DeviceRopeTables*> CudaAttention::ropeTables(const RopeParams& params,
                                                          int64_t positions) {
    DeviceRopeTables* tables = nullptr;
    for (auto& existing : ropes_)
        if (sameRope(existing->params(), params)) tables = existing.get();
    if (!tables) {
        ropes_.push_back(std::make_unique<DeviceRopeTables>(params));
        tables = ropes_.back().get();
    }
    HIP_TRY(tables->cover(std::max(positions, maxCapacity_), pool_, queue_.stream()));
    return tables;
}

Status CudaAttention::run(CudaKvCache& kv, int32_t layer, int64_t start, Act q, Act k, Act v,
                          const AttentionParams& params, Act out) {
    const int64_t end = start + q.rows;
    HIP_TRY(check(kv, end, q, params));
    auto tables = ropeTables(params.rope, end);
    HIP_TRY(tables);
    HIP_TRY(inputs_.uploadPositions(start, q.rows));
    const kernels::RopeTables rope = (*tables)->view();
    const kernels::KvLayer layerKv = kv.layer(layer);
    const int32_t* positions = inputs_.positions();
    queue_.identify({word(StepOp::Attention), word(&kv), word(int64_t(layer)), word(q), word(k),
                     word(v), word(out), word(int64_t(params.heads)), word(params.scale),
                     word(rope.cosSin), word(int64_t(q.rows == 1 && kv.attentionMass))});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::appendKv(rows(k), rows(v), positions, rope, layerKv, s),
                          "the KV append kernel");
    });
    if (q.rows == 1)
        decode(kv, layerKv, rope, q, params, out, end);
    else
        prefill(layerKv, rope, start, q, params, out);
    if (layer == kv.layers() - 1) kv.setTokens(end);
    return Status::ok();
}

// One query row over keys [0, end): split-KV decoding, and the attention mass when the cache
// asks for it. Positions and length come from the step inputs in device memory.
void CudaAttention::decode(CudaKvCache& kv, const kernels::KvLayer& layer,
                           const kernels::RopeTables& rope, Act q, const AttentionParams& params,
                           Act out, int64_t end) {
    const int32_t* length = inputs_.length();
    const bool mass = kv.attentionMass != nullptr;
    kernels::DecodeAttention d;
    d.q = q.data;
    d.kv = layer;
    d.rope = rope;
    d.heads = params.heads;
    d.scale = params.scale;
    d.length = length;
    d.splits = kv.splits();
    d.partials = kv.partials();
    d.rangesDone = kv.rangesDone();
    d.out = out.data;
    d.logSumExp = mass ? kv.logSumExp() : nullptr;
    // In a decode step the mass is cleared before the graph runs (beforeStep).
    if (mass && !queue_.recording()) {
        float* target = kv.mass();
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(cudaMemsetAsync(target, 0, size_t(end) * sizeof(float), s),
                              "clearing the attention mass");
        });
    }
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::flashDecode(d, s), "the decode attention kernel");
    });
    if (!mass) return;
    kernels::AttentionMass m;
    m.q = q.data;
    m.kv = layer;
    m.rope = rope;
    m.heads = params.heads;
    m.scale = params.scale;
    m.length = length;
    m.logSumExp = kv.logSumExp();
    m.mass = kv.mass();
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::addAttentionMass(m, s), "the attention mass kernel");
    });
    if (queue_.recording())
        stepMass_ = {&kv, kv.attentionMass, end};
    else
        queue_.fail(addMassToHost(kv, *kv.attentionMass, end));
}

// Query rows at positions start.. over keys up to their own: the queries are rotated and scaled
// into 16-bit head-major rows, then the flash prefill kernel runs.
void CudaAttention::prefill(const kernels::KvLayer& layer, const kernels::RopeTables& rope,
                            int64_t start, Act q, const AttentionParams& params, Act out) {
    const int64_t qElements = q.rows * int64_t(params.heads) * params.headDim;
    auto rotated = qHalf_.ensure(uint64_t(qElements) * 2u);
    if (!rotated) return queue_.fail(rotated.status());
    void* queries = *rotated;
    kernels::PrefillAttention p;
    p.q = queries;
    p.qHeadStride = q.rows * params.headDim;
    p.kv = layer;
    p.heads = params.heads;
    p.rows = q.rows;
    p.start = start;
    p.out = rows(out);
    const int32_t* positions = inputs_.positions();
    const int32_t heads = params.heads, headDim = params.headDim;
    const float qScale = params.scale * 1.4426950408889634f; // log2(e): the kernel uses exp2
    const kernels::PrefillTile tile = prefillTile_;
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::ropeRows(rows(q), heads, headDim, positions, rope, qScale,
                                            queries, p.qHeadStride, layer.type, s),
                          "the query rotation kernel");
    });
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::flashPrefill(p, s, tile), "the prefill attention kernel");
    });
}

Status CudaAttention::beforeStep() {
    if (!stepMass_.cache) return Status::ok();
    HIP_CUDA_TRY(cudaMemsetAsync(stepMass_.cache->mass(), 0,
                                 size_t(stepMass_.length) * sizeof(float), queue_.stream()),
                 "clearing the attention mass");
    return Status::ok();
}

Status CudaAttention::afterStep() {
    const StepMass mass = stepMass_;
    stepMass_ = {};
    if (!mass.cache) return Status::ok();
    return addMassToHost(*mass.cache, *mass.target, mass.length);
}

// Waits for queued work, then adds the attention mass of positions [0, length) to `mass`.
Status CudaAttention::addMassToHost(const CudaKvCache& cache, std::vector<float>& mass,
                                    int64_t length) {
    const cudaStream_t stream = queue_.stream();
    const uint64_t bytes = uint64_t(length) * sizeof(float);
    if (massCopy_.bytes() < bytes) {
        HIP_CUDA_TRY(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        auto grown = PinnedBuffer::allocate(bytes);
        HIP_TRY(grown);
        massCopy_ = std::move(*grown);
    }
    HIP_CUDA_TRY(
        cudaMemcpyAsync(massCopy_.as<float>(), cache.mass(), bytes, cudaMemcpyDeviceToHost, stream),
        "copying the attention mass");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "computing the attention mass");
    if (mass.size() < size_t(length)) mass.resize(size_t(length));
    const float* add = massCopy_.as<float>();
    for (int64_t j = 0; j < length; ++j)
        mass[size_t(j)] += add[j];
    return Status::ok();
}

} // namespace hip::backend
