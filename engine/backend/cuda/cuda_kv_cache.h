#pragma once
// The KV cache in GPU memory, paged (kernels::KvLayer): a pool of key pages and a pool of value
// pages (fp16 or bf16, kernels::kKvPageTokens positions each) and a page table per layer and KV
// head that maps each run of positions to its pool page. Keys are stored rotated at their own
// positions (kernels/kernel_types.h states the invariant). Every page is placed when the cache is
// made; the host tier will place pages elsewhere by changing the tables, not the kernels. The
// cache also owns the small buffers of decode attention (split partials, log-sum-exp, attention
// mass, the counters that find each KV head's last range).

#include "backend/backend.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/hip_lists.h"
#include "kernels/kernel_types.h"

#include <memory>

namespace hip::backend {

class CudaKvCache final : public KvCache {
public:
    // Decode attention may use up to kMaxGroup query heads per KV head.
    static constexpr int32_t kMaxGroup = 16;

    // Bytes of keys and values per position, as stored (16-bit) and allocated (whole pages).
    static uint64_t bytesPerToken(int32_t layers, int32_t kvHeads, int32_t headDim) {
        return uint64_t(layers) * 2u * uint64_t(kvHeads) * uint64_t(headDim) * 2u;
    }

    // Writes the page tables and clears the decode counters on `stream`, and waits for it.
    static Result<std::unique_ptr<CudaKvCache>> create(const KvCacheShape& shape,
                                                       kernels::Half16 type, int32_t splits,
                                                       DevicePool& pool, cudaStream_t stream);

    int64_t tokens() const override { return tokens_; }
    int64_t capacity() const override { return shape_.capacity; }
    void truncate(int64_t tokens) override {
        if (tokens < tokens_) tokens_ = tokens;
        // Masks were estimated for the longer context: the next step refreshes every stage.
        if (hip_) hip_->invalidate();
    }
    uint64_t residentBytes() const override {
        return keys_.bytes() + values_.bytes() + pageTables_.bytes();
    }
    std::vector<std::vector<KeyRange>> lastSelections() const override;

    // HiP's decode cache for `config`, made on first use and anew when the configuration changes.
    Result<HipDecodeState*> hipState(const AttentionConfig& config);

    void setTokens(int64_t tokens) { tokens_ = tokens; }
    int32_t layers() const { return shape_.layers; }
    kernels::KvLayer layer(int32_t index) const;
    int32_t splits() const { return splits_; }
    float* partials() const { return scratch_.as<float>(); }
    float* logSumExp() const { return partials() + partialFloats(); }
    float* mass() const { return logSumExp() + int64_t(kMaxGroup) * shape_.kvHeads; }
    int* rangesDone() const { return reinterpret_cast<int*>(mass() + shape_.capacity); }

private:
    CudaKvCache(const KvCacheShape& shape, kernels::Half16 type, int32_t splits, DevicePool& pool,
                cudaStream_t stream)
        : shape_(shape), type_(type), splits_(splits), pool_(pool), stream_(stream) {}
    int64_t partialFloats() const {
        return int64_t(kMaxGroup) * shape_.kvHeads * splits_ * (shape_.headDim + 2);
    }
    int32_t pagesPerHead() const {
        return int32_t((shape_.capacity + kernels::kKvPageTokens - 1) / kernels::kKvPageTokens);
    }

    KvCacheShape shape_;
    kernels::Half16 type_;
    int32_t splits_;
    DevicePool& pool_;
    cudaStream_t stream_;
    int64_t tokens_ = 0;
    DeviceAllocation keys_, values_, pageTables_, scratch_;
    std::unique_ptr<HipDecodeState> hip_;
};

} // namespace hip::backend
