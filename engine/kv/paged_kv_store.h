#pragma once
// Keys (stored before rotation) and values of every layer in host memory, in pages of a fixed
// number of token positions. Pages are allocated as the context grows, so a session only pays
// for what it holds; the CPU backend computes on it directly and the GPU backend will use it as
// its host tier.

#include "hip/status.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace hip::kv {

class PagedKvStore {
public:
    static constexpr int64_t kPageTokens = 256;

    PagedKvStore(int32_t layers, int32_t kvHeads, int32_t headDim, int64_t capacity);

    int32_t layers() const { return layers_; }
    int32_t kvHeads() const { return kvHeads_; }
    int32_t headDim() const { return headDim_; }
    int64_t capacity() const { return capacity_; }
    int64_t tokens() const { return tokens_; }
    int64_t rowFloats() const { return int64_t(kvHeads_) * headDim_; } // one position, all heads

    // Makes room for positions [0, end) in every layer; OutOfMemory or InvalidArgument (past the
    // capacity) on failure. Does not change tokens().
    Status reserve(int64_t end);
    // Marks positions [0, end) as filled (after every layer wrote them).
    void setTokens(int64_t end) { tokens_ = end; }
    void truncate(int64_t end);

    // Row of all kv heads at `position`; keys and values of one page are contiguous runs of
    // kPageTokens rows, so a page can be handed to BLAS with a row stride of rowFloats().
    float* keys(int32_t layer, int64_t position);
    float* values(int32_t layer, int64_t position);
    const float* keys(int32_t layer, int64_t position) const;
    const float* values(int32_t layer, int64_t position) const;

    // Safe to call from any thread while another grows the store (memory gauges sample it).
    uint64_t residentBytes() const { return residentBytes_.load(std::memory_order_relaxed); }
    static uint64_t bytesPerToken(int32_t layers, int32_t kvHeads, int32_t headDim) {
        return uint64_t(layers) * 2u * uint64_t(kvHeads) * uint64_t(headDim) * sizeof(float);
    }

private:
    float* pageBase(int32_t layer, int64_t position) const;

    int32_t layers_;
    int32_t kvHeads_;
    int32_t headDim_;
    int64_t capacity_;
    int64_t tokens_ = 0;
    // pages_[layer][page]: kPageTokens key rows followed by kPageTokens value rows.
    std::vector<std::vector<std::unique_ptr<float[]>>> pages_;
    std::atomic<uint64_t> residentBytes_{0};
};

} // namespace hip::kv
