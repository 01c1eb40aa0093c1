#include "backend/cuda/cuda_kv_cache.h"

#include "backend/cuda/cuda_check.h"

#include <numeric>
#include <vector>

namespace hip::backend {

Result<std::unique_ptr<CudaKvCache>> CudaKvCache::create(const KvCacheShape& shape,
                                                         kernels::Half16 type, int32_t splits,
                                                         DevicePool& pool, cudaStream_t stream) {
    std::unique_ptr<CudaKvCache> cache(new CudaKvCache(shape, type, splits, pool, stream));
    const int64_t pages = int64_t(shape.layers) * shape.kvHeads * cache->pagesPerHead();
    const uint64_t poolBytes =
        uint64_t(pages) * uint64_t(kernels::kKvPageTokens) * uint64_t(shape.headDim) * 2u;
    const std::string what = "the KV cache for " + std::to_string(shape.capacity) + " tokens";
    auto keys = pool.allocate(poolBytes, DeviceUse::KvCache, what + " (keys)");
    HIP_TRY(keys);
    auto values = pool.allocate(poolBytes, DeviceUse::KvCache, what + " (values)");
    HIP_TRY(values);
    auto tables = pool.allocate(uint64_t(pages) * sizeof(int32_t), DeviceUse::KvCache,
                                what + " (page tables)");
    HIP_TRY(tables);
    const int64_t scratchFloats = cache->partialFloats() + int64_t(kMaxGroup) * shape.kvHeads +
                                  shape.capacity + shape.kvHeads;
    const uint64_t scratchBytes = uint64_t(scratchFloats) * sizeof(float);
    auto scratch = pool.allocate(scratchBytes, DeviceUse::Workspace, "decode attention scratch");
    HIP_TRY(scratch);

    // Every page resident, in order: the table of (layer, head) maps its pages to a run of the
    // pool.
    std::vector<int32_t> table(static_cast<size_t>(pages));
    std::iota(table.begin(), table.end(), 0);
    HIP_CUDA_TRY(cudaMemcpyAsync(tables->data(), table.data(), table.size() * sizeof(int32_t),
                                 cudaMemcpyHostToDevice, stream),
                 "writing the KV page tables");
    HIP_CUDA_TRY(cudaMemsetAsync(scratch->data(), 0, scratchBytes, stream),
                 "clearing decode attention scratch");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "preparing the KV cache");
    cache->keys_ = std::move(*keys);
    cache->values_ = std::move(*values);
    cache->pageTables_ = std::move(*tables);
    cache->scratch_ = std::move(*scratch);
    return cache;
}

kernels::KvLayer CudaKvCache::layer(int32_t index) const {
    kernels::KvLayer l;
    l.keys = keys_.data();
    l.values = values_.data();
    l.pagesPerHead = pagesPerHead();
    l.pageTable = pageTables_.as<int32_t>() + int64_t(index) * shape_.kvHeads * l.pagesPerHead;
    l.kvHeads = shape_.kvHeads;
    l.headDim = shape_.headDim;
    l.capacity = int64_t(l.pagesPerHead) * kernels::kKvPageTokens;
    l.type = type_;
    return l;
}

std::vector<std::vector<KeyRange>> CudaKvCache::lastSelections() const {
    if (hip_) {
        auto masks = hip_->masks(stream_, tokens_ + 1);
        if (masks) return std::move(*masks);
    }
    return std::vector<std::vector<KeyRange>>(size_t(shape_.layers));
}

Result<HipDecodeState*> CudaKvCache::hipState(const AttentionConfig& config) {
    if (!hip_ || !(hip_->config() == config)) {
        hip_.reset();
        auto state = HipDecodeState::create(pool_, config, shape_.layers, shape_.capacity);
        HIP_TRY(state);
        hip_ = std::make_unique<HipDecodeState>(std::move(*state));
    }
    return hip_.get();
}

} // namespace hip::backend
