#include "backend/cuda/cuda_kv_cache.h"

#include "backend/cuda/cuda_check.h"

namespace hip::backend {

Result<std::unique_ptr<CudaKvCache>> CudaKvCache::create(const KvCacheShape& shape,
                                                         kernels::Half16 type, int32_t splits,
                                                         DevicePool& pool, cudaStream_t stream) {
    std::unique_ptr<CudaKvCache> cache(new CudaKvCache(shape, type, splits));
    const uint64_t half = uint64_t(shape.layers) * uint64_t(shape.kvHeads) *
                          uint64_t(shape.capacity) * uint64_t(shape.headDim) * 2u;
    const std::string what = "the KV cache for " + std::to_string(shape.capacity) + " tokens";
    auto keys = pool.allocate(half, DeviceUse::KvCache, what + " (keys)");
    HIP_TRY(keys);
    auto values = pool.allocate(half, DeviceUse::KvCache, what + " (values)");
    HIP_TRY(values);
    const int64_t scratchFloats = cache->partialFloats() + int64_t(kMaxGroup) * shape.kvHeads +
                                  shape.capacity + shape.kvHeads;
    const uint64_t scratchBytes = uint64_t(scratchFloats) * sizeof(float);
    auto scratch = pool.allocate(scratchBytes, DeviceUse::Workspace, "decode attention scratch");
    HIP_TRY(scratch);
    HIP_CUDA_TRY(cudaMemsetAsync(scratch->data(), 0, scratchBytes, stream),
                 "clearing decode attention scratch");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "clearing decode attention scratch");
    cache->keys_ = std::move(*keys);
    cache->values_ = std::move(*values);
    cache->scratch_ = std::move(*scratch);
    return cache;
}

kernels::KvLayer CudaKvCache::layer(int32_t index) const {
    const int64_t layerElements = int64_t(shape_.kvHeads) * shape_.capacity * shape_.headDim;
    kernels::KvLayer l;
    l.keys = keys_.as<uint16_t>() + index * layerElements;
    l.values = values_.as<uint16_t>() + index * layerElements;
    l.kvHeads = shape_.kvHeads;
    l.headDim = shape_.headDim;
    l.capacity = shape_.capacity;
    l.type = type_;
    return l;
}

} // namespace hip::backend
