#include "backend/cuda/cuda_attention.h"

#include "attention/dense_attention.h"
#include "attention/hip_attention.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/step_words.h"
#include "kernels/attention_mass.h"
#include "kernels/flash_decode.h"
#include "kernels/hip_mask.h"
#include "kernels/hip_sparse_attention.h"
#include "kernels/kv_append.h"
#include "kernels/rope.h"

#include <algorithm>

namespace hip::backend {

Status CudaAttention::supports(const AttentionParams& params, const AttentionConfig& config) const {
    const int32_t d = params.headDim;
    const RopeParams& rope = params.rope;
    std::string problem;
    if (config.mode == AttentionConfig::Mode::HipTree)
        problem = "HiP v1.1's tree mode (" + config.name +
                  "); it runs on the CPU, or choose "
                  "InfiniteHiP's multi-stage pruning (hip-3k)";
    else if (config.mode == AttentionConfig::Mode::Hip &&
             config.stages.size() > size_t(kernels::HipRefresh::kMaxStages))
        problem =
            "more than " + std::to_string(kernels::HipRefresh::kMaxStages) + " pruning stages";
    else if (config.mode == AttentionConfig::Mode::Hip && config.queryBlock % 64 != 0)
        problem =
            "HiP query blocks of " + std::to_string(config.queryBlock) + " rows (a multiple of 64)";
    else if (config.mode == AttentionConfig::Mode::Hip &&
             std::any_of(config.stages.begin(), config.stages.end(), [&](const PruningStage& s) {
                 return config.queryBlock / s.queryStride > kernels::kHipMaxScoringRows;
             }))
        problem = "HiP stages scoring more than " + std::to_string(kernels::kHipMaxScoringRows) +
                  " rows per query block (the query block over the stage's query stride)";
    else if (config.mode == AttentionConfig::Mode::Hip &&
             hipListSizes(config, 0).mask > kernels::kHipMaxMaskChunks)
        problem =
            "HiP masks of more than " + std::to_string(kernels::kHipMaxMaskChunks) + " chunks";
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
    const AttentionConfig& config = params.config ? *params.config : dense;
    HIP_TRY(supports(params, config));
    if (config.mode == AttentionConfig::Mode::Hip) {
        const int32_t firstStage = hipListSizes(config, cache.capacity()).stageInputs[0];
        if (firstStage > kernels::kHipMaxStageChunks)
            return makeError(ErrorCode::Unsupported,
                             "HiP on the GPU scores at most " +
                                 std::to_string(kernels::kHipMaxStageChunks) +
                                 " chunks per stage: with chunks of " +
                                 std::to_string(config.stages[0].chunkSize) +
                                 " tokens the context may hold up to " +
                                 std::to_string(int64_t(kernels::kHipMaxStageChunks) *
                                                config.stages[0].chunkSize) +
                                 " tokens");
    }
    if (q.rows == 1 && cache.attentionMass && params.heads > 64)
        return makeError(ErrorCode::Unsupported, "the CUDA attention kernels do not support an "
                                                 "attention trace over more than 64 heads");
    return Status::ok();
}

Result<const DeviceRopeTables*> CudaAttention::ropeTables(const RopeParams& params,
                                                          int64_t positions) {
    DeviceRopeTables* tables = nullptr;
    for (auto& existing : ropes_)
        if (existing->params() == params) tables = existing.get();
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
    const bool hip = !params.runsDense(layer, end, q.rows == 1);
    // HiP rotates keys by packed distances and scoring positions, which may pass the context.
    auto tables = ropeTables(
        params.rope,
        hip ? std::max(end, attention::hipRopePositionsNeeded(*params.config, layer, end)) : end);
    HIP_TRY(tables);
    HIP_TRY(inputs_.uploadPositions(start, q.rows));
    const kernels::RopeTables rope = (*tables)->view();
    const kernels::KvLayer layerKv = kv.layer(layer);
    const int32_t* positions = inputs_.positions();
    queue_.identify({word(StepOp::Attention), word(&kv), word(int64_t(layer)), word(q), word(k),
                     word(v), word(out), word(int64_t(params.heads)), word(params.scale),
                     word(rope.cosSin), word(int64_t(q.rows == 1 && kv.attentionMass)),
                     word(int64_t(hip))});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::appendKv(rows(k), rows(v), positions, rope, layerKv, s),
                          "the KV append kernel");
    });
    if (hip && q.rows == 1)
        HIP_TRY(hipDecode(kv, layer, layerKv, rope, q, params, out, end));
    else if (hip)
        HIP_TRY(hipPrefill(layer, layerKv, rope, start, q, params, kv.capacity(), out));
    else if (q.rows == 1)
        decode(kv, layerKv, rope, q, params, out, end);
    else
        prefill(layerKv, rope, start, q, params, out);
    if (kv.exactMass) addExactMass(kv, layer, layerKv, rope, q, params, end);
    // A prefill or a dense step leaves the layer's HiP decode cache stale.
    if (params.config && params.config->mode == AttentionConfig::Mode::Hip &&
        (q.rows > 1 || !hip)) {
        auto state = kv.hipState(*params.config);
        HIP_TRY(state);
        (*state)->setValid(layer, false);
    }
    if (layer == kv.layers() - 1) kv.setTokens(end);
    return Status::ok();
}

Status CudaAttention::fillRepeating(CudaKvCache& kv, int32_t layer, int64_t tokens, Act k, Act v,
                                    const AttentionParams& params) {
    if (queue_.recording())
        return makeError(ErrorCode::InvalidArgument, "filling a cache during a decode step");
    if (tokens > kv.capacity())
        return makeError(ErrorCode::InvalidArgument, "filling past the cache's capacity");
    if (k.rows < 1 || k.rows != v.rows)
        return makeError(ErrorCode::InvalidArgument,
                         "filling a cache needs rows of keys and values");
    auto tables = ropeTables(params.rope, tokens);
    HIP_TRY(tables);
    const kernels::RopeTables rope = (*tables)->view();
    const kernels::KvLayer layerKv = kv.layer(layer);
    for (int64_t first = 0; first < tokens; first += k.rows) {
        const int64_t n = std::min(k.rows, tokens - first);
        HIP_TRY(inputs_.uploadPositions(first, n));
        const int32_t* positions = inputs_.positions();
        kernels::Rows keys = rows(k), values = rows(v);
        keys.rows = values.rows = n;
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(kernels::appendKv(keys, values, positions, rope, layerKv, s),
                              "the KV append kernel");
        });
    }
    HIP_TRY(queue_.takeError());
    HIP_CUDA_TRY(cudaStreamSynchronize(queue_.stream()), "filling the cache");
    if (layer == kv.layers() - 1) kv.setTokens(tokens);
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
    if (mass) clearMass(kv, end);
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
    queue_.fail(collectMass(kv, *kv.attentionMass, end));
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

namespace {

kernels::HipQueries hipQueries(Act q, const AttentionParams& params, const AttentionConfig& config,
                               int64_t start) {
    kernels::HipQueries queries;
    queries.q = q.data;
    queries.stride = q.stride;
    queries.rows = int32_t(q.rows);
    queries.heads = params.heads;
    queries.blockRows = config.queryBlock;
    queries.firstPosition = start;
    return queries;
}

kernels::HipPruningStage hipStage(const AttentionConfig& config, int32_t layer, size_t s,
                                  const kernels::HipQueries& queries, const kernels::KvLayer& kv,
                                  const kernels::RopeTables& rope, int32_t multiprocessors) {
    const auto& stages = config.stages;
    const bool last = s + 1 == stages.size();
    kernels::HipPruningStage stage;
    stage.queries = queries;
    stage.kv = kv;
    stage.rope = rope;
    stage.window = {config.sinkTokens, config.windowTokens};
    stage.chunkSize = stages[s].chunkSize;
    stage.keepChunks =
        int32_t((last ? config.finalTokens(layer) : stages[s].keepTokens) / stages[s].chunkSize);
    stage.queryStride = stages[s].queryStride;
    stage.nextChunkSize = last ? 0 : stages[s + 1].chunkSize;
    stage.chunkIndexed = layer < config.firstLayers;
    stage.multiprocessors = multiprocessors;
    return stage;
}

kernels::HipSparseAttention hipSparse(const kernels::HipQueries& queries,
                                      const kernels::KvLayer& kv, const kernels::RopeTables& rope,
                                      const AttentionParams& params, const AttentionConfig& config,
                                      const kernels::HipChunkLists& mask, Act out) {
    kernels::HipSparseAttention a;
    a.queries = queries;
    a.kv = kv;
    a.rope = rope;
    a.scale = params.scale;
    a.window = {config.sinkTokens, config.windowTokens};
    a.mask = mask;
    a.out = rows(out);
    return a;
}

} // namespace

Status CudaAttention::reserveHipPrefill(const AttentionConfig& config, int32_t blocks,
                                        const kernels::KvLayer& layer) {
    const int64_t capacity = layer.capacity;
    const uint64_t unrotatedBytes =
        uint64_t(layer.kvHeads) * uint64_t(capacity) * uint64_t(layer.headDim) * 2u;
    if (hipUnrotatedKeys_.bytes() < unrotatedBytes) {
        pool_.retire(std::move(hipUnrotatedKeys_));
        auto keys = pool_.allocate(unrotatedBytes, DeviceUse::Workspace, "HiP's unrotated keys");
        HIP_TRY(keys);
        hipUnrotatedKeys_ = std::move(*keys);
    }
    const HipListSizes sizes = hipListSizes(config, capacity);
    const int32_t largest = sizes.largest();
    if (hipLists_[0].blocks >= blocks && hipLists_[0].capacity >= largest &&
        hipMasks_.capacity >= sizes.mask)
        return Status::ok();
    for (DeviceChunkLists& lists : hipLists_) {
        pool_.retire(std::move(lists.memory));
        auto grown = DeviceChunkLists::allocate(pool_, blocks, largest, "HiP's chunk lists");
        HIP_TRY(grown);
        lists = std::move(*grown);
    }
    pool_.retire(std::move(hipMasks_.memory));
    auto masks = DeviceChunkLists::allocate(pool_, blocks, sizes.mask, "HiP's masks");
    HIP_TRY(masks);
    hipMasks_ = std::move(*masks);
    pool_.retire(std::move(hipScores_));
    auto scores = pool_.allocate(uint64_t(blocks) * uint64_t(largest) * sizeof(float),
                                 DeviceUse::Workspace, "HiP's chunk scores");
    HIP_TRY(scores);
    hipScores_ = std::move(*scores);
    return Status::ok();
}

// The rows in query blocks: each stage's chunk lists alternate between two buffers, the last
// stage writes the masks, and the sparse kernel reads them.
Status CudaAttention::hipPrefill(int32_t layerIndex, const kernels::KvLayer& layer,
                                 const kernels::RopeTables& rope, int64_t start, Act q,
                                 const AttentionParams& params, int64_t capacity, Act out) {
    const AttentionConfig& config = *params.config;
    const kernels::HipQueries queries = hipQueries(q, params, config, start);
    HIP_TRY(reserveHipPrefill(config, queries.blocks(), layer));
    const HipListSizes sizes = hipListSizes(config, capacity);
    // Lists of `capacity` chunks per block, laid out for `blocks` blocks of the buffer.
    const auto lists = [&](const DeviceChunkLists& buffer, int32_t listCapacity) {
        kernels::HipChunkLists v = buffer.view();
        v.capacity = listCapacity;
        return v;
    };
    const kernels::HipChunkLists masks = hipMasks_.view();
    const kernels::HipWindow window{config.sinkTokens, config.windowTokens};
    const int32_t firstChunk = config.stages[0].chunkSize;
    const kernels::HipChunkLists firstInput = lists(hipLists_[0], sizes.stageInputs[0]);
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::hipInitialChunks(queries, window, firstChunk, firstInput, {}, s),
                          "HiP's initial chunks");
    });
    // Scoring reads the keys unrotated (one pass here instead of a rotation per probe).
    void* unrotated = hipUnrotatedKeys_.data();
    const int64_t end = start + q.rows;
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::hipUnrotateKeys(layer, rope, end, unrotated, layer.capacity, s),
                          "unrotating HiP's keys");
    });
    float* scores = hipScores_.as<float>();
    for (size_t s = 0; s < config.stages.size(); ++s) {
        const bool last = s + 1 == config.stages.size();
        kernels::HipPruningStage stage =
            hipStage(config, layerIndex, s, queries, layer, rope, multiprocessors_);
        stage.input = lists(hipLists_[s % 2], sizes.stageInputs[s]);
        stage.output = last ? masks : lists(hipLists_[(s + 1) % 2], sizes.stageInputs[s + 1]);
        stage.scores = scores;
        stage.unrotatedKeys = unrotated;
        stage.unrotatedRows = layer.capacity;
        queue_.submit([=](cudaStream_t stream) {
            return cudaStatus(kernels::hipPruneStage(stage, stream), "a HiP pruning stage");
        });
    }
    const kernels::HipSparseAttention sparse =
        hipSparse(queries, layer, rope, params, config, masks, out);
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::hipSparsePrefill(sparse, s), "HiP's sparse prefill attention");
    });
    return Status::ok();
}

Status CudaAttention::reserveHipDecode(const AttentionParams& params, int64_t keysPerHead,
                                       int32_t capacity) {
    if (hipDecodeScores_.bytes() < uint64_t(capacity) * sizeof(float)) {
        pool_.retire(std::move(hipDecodeScores_));
        auto scores = pool_.allocate(uint64_t(capacity) * sizeof(float), DeviceUse::Workspace,
                                     "HiP's decode chunk scores");
        HIP_TRY(scores);
        hipDecodeScores_ = std::move(*scores);
    }
    if (keysPerHead > hipDecodeKeys_) {
        const uint64_t bytes = kernels::hipSparseDecodeScratchBytes(
            params.heads, params.kvHeads, params.headDim, keysPerHead, multiprocessors_);
        pool_.retire(std::move(hipDecodeScratch_));
        auto scratch = pool_.allocate(bytes, DeviceUse::Workspace, "HiP's decode scratch");
        HIP_TRY(scratch);
        HIP_CUDA_TRY(cudaMemsetAsync(scratch->data(), 0, bytes, queue_.stream()),
                     "clearing HiP's decode scratch");
        hipDecodeScratch_ = std::move(*scratch);
        hipDecodeKeys_ = keysPerHead;
    }
    return Status::ok();
}

// One query row: the stages whose refresh is due (the device's step counter decides, so one graph
// serves every step), then the sparse attention over the layer's mask.
Status CudaAttention::hipDecode(CudaKvCache& kv, int32_t layer, const kernels::KvLayer& layerKv,
                                const kernels::RopeTables& rope, Act q,
                                const AttentionParams& params, Act out, int64_t end) {
    const AttentionConfig& config = *params.config;
    auto found = kv.hipState(config);
    HIP_TRY(found);
    HipDecodeState& state = **found;
    HIP_CUDA_TRY(kernels::hipMaskPrepare(layerKv.type, layerKv.headDim), "preparing HiP");
    HIP_CUDA_TRY(kernels::hipSparsePrepare(layerKv.type, layerKv.headDim), "preparing HiP");
    const HipListSizes sizes = hipListSizes(config, kv.capacity());
    // Attended keys per head at most: the sinks, the largest mask and the window.
    const int64_t keysPerHead =
        int64_t(config.sinkTokens) + config.windowTokens +
        std::max(config.firstLayersFinalTokens, config.stages.back().keepTokens);
    HIP_TRY(reserveHipDecode(params, keysPerHead, sizes.largest()));

    kernels::HipQueries queries = hipQueries(q, params, config, 0);
    queries.length = inputs_.length();
    int32_t* step = state.step(layer);
    if (!state.valid(layer)) {
        // The first step after a prefill, a dense step or a new configuration refreshes all.
        queue_.identify({word(int64_t(-1))});
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(cudaMemsetAsync(step, 0, sizeof(int32_t), s),
                              "restarting HiP's refresh schedule");
        });
        state.setValid(layer, true);
    }
    const kernels::HipWindow window{config.sinkTokens, config.windowTokens};
    const int32_t firstChunk = config.stages[0].chunkSize;
    kernels::HipRefresh firstRefresh;
    firstRefresh.step = step;
    firstRefresh.count = 1;
    firstRefresh.intervals[0] = config.stages[0].refreshInterval;
    const kernels::HipChunkLists firstInput = state.stageInput(layer, 0);
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(
            kernels::hipInitialChunks(queries, window, firstChunk, firstInput, firstRefresh, s),
            "HiP's initial chunks");
    });
    float* scores = hipDecodeScores_.as<float>();
    for (size_t s = 0; s < config.stages.size(); ++s) {
        const bool last = s + 1 == config.stages.size();
        kernels::HipPruningStage stage =
            hipStage(config, layer, s, queries, layerKv, rope, multiprocessors_);
        stage.input = state.stageInput(layer, s);
        stage.output = last ? state.mask(layer) : state.stageInput(layer, s + 1);
        stage.scores = scores;
        stage.refresh.step = step;
        stage.refresh.count = int32_t(s + 1);
        for (size_t i = 0; i <= s; ++i)
            stage.refresh.intervals[i] = config.stages[i].refreshInterval;
        queue_.submit([=](cudaStream_t stream) {
            return cudaStatus(kernels::hipPruneStage(stage, stream), "a HiP pruning stage");
        });
    }
    kernels::HipSparseAttention sparse =
        hipSparse(queries, layerKv, rope, params, config, state.mask(layer), out);
    const bool mass = kv.attentionMass != nullptr;
    if (mass) {
        sparse.mass = kv.mass();
        clearMass(kv, end);
    }
    const kernels::HipDecodeScratch scratch{hipDecodeScratch_.data(), hipDecodeKeys_,
                                            multiprocessors_};
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::hipSparseDecode(sparse, scratch, s),
                          "HiP's sparse decode attention");
    });
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::hipAdvanceStep(step, s), "counting HiP's decode steps");
    });
    if (!mass) return Status::ok();
    return collectMass(kv, *kv.attentionMass, end);
}

// The exact probabilities of every query row (KvCache::exactMass), whatever attention produced
// the output: in an eager pass they reach the host at once; in a recorded decode step after it
// (afterStep), as the decode trace does, which the step's words tell apart from untraced steps.
void CudaAttention::addExactMass(CudaKvCache& kv, int32_t layer, const kernels::KvLayer& layerKv,
                                 const kernels::RopeTables& rope, Act q,
                                 const AttentionParams& params, int64_t end) {
    if (queue_.recording() && stepMass_.target && stepMass_.target != kv.exactMass)
        return queue_.fail(makeError(ErrorCode::Unsupported,
                                     "a decode step traces either its decode attention or its "
                                     "exact attention, not both"));
    queue_.identify({word(StepOp::Attention), word(kv.exactMass)});
    kernels::ExactAttentionMass m;
    m.q = q.data;
    m.qStride = q.stride;
    m.rows = int32_t(q.rows);
    m.positions = inputs_.positions();
    m.kv = layerKv;
    m.rope = rope;
    m.heads = params.heads;
    m.scale = params.scale;
    m.farDistance = attention::exactMassFarDistance(params, layer, end, q.rows == 1);
    m.mass = kv.mass();
    clearMass(kv, end);
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::addExactAttentionMass(m, s), "the exact attention mass kernel");
    });
    queue_.fail(collectMass(kv, *kv.exactMass, end));
}

void CudaAttention::clearMass(const CudaKvCache& kv, int64_t end) {
    if (queue_.recording()) return; // a decode step clears it before its graph runs (beforeStep)
    float* target = kv.mass();
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(cudaMemsetAsync(target, 0, size_t(end) * sizeof(float), s),
                          "clearing the attention mass");
    });
}

Status CudaAttention::collectMass(const CudaKvCache& kv, std::vector<float>& target, int64_t end) {
    if (!queue_.recording()) return addMassToHost(kv, target, end);
    stepMass_ = {&kv, &target, end}; // added once the step ran (afterStep)
    return Status::ok();
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
