#include "kv/paged_kv_store.h"

#include <new>
#include <string>

namespace hip::kv {

PagedKvStore::PagedKvStore(int32_t layers, int32_t kvHeads, int32_t headDim, int64_t capacity)
    : layers_(layers), kvHeads_(kvHeads), headDim_(headDim), capacity_(capacity), pages_(layers) {}

Status PagedKvStore::reserve(int64_t end) {
    if (end > capacity_)
        return makeError(ErrorCode::InvalidArgument, "the context is full: " + std::to_string(end) +
                                                         " tokens needed, " +
                                                         std::to_string(capacity_) + " allowed");
    const size_t pagesNeeded = size_t((end + kPageTokens - 1) / kPageTokens);
    const size_t pageFloats = size_t(2 * kPageTokens * rowFloats());
    for (auto& layerPages : pages_) {
        while (layerPages.size() < pagesNeeded) {
            std::unique_ptr<float[]> page(new (std::nothrow) float[pageFloats]);
            if (!page)
                return makeError(ErrorCode::OutOfMemory,
                                 "out of host memory growing the KV cache to " +
                                     std::to_string(end) + " tokens (" +
                                     std::to_string(residentBytes() >> 20) + " MiB held)");
            layerPages.push_back(std::move(page));
            residentBytes_.fetch_add(pageFloats * sizeof(float), std::memory_order_relaxed);
        }
    }
    return Status::ok();
}

void PagedKvStore::truncate(int64_t end) {
    if (end < tokens_) tokens_ = end;
}

float* PagedKvStore::pageBase(int32_t layer, int64_t position) const {
    return pages_[size_t(layer)][size_t(position / kPageTokens)].get();
}

float* PagedKvStore::keys(int32_t layer, int64_t position) {
    return pageBase(layer, position) + (position % kPageTokens) * rowFloats();
}
float* PagedKvStore::values(int32_t layer, int64_t position) {
    return pageBase(layer, position) + (kPageTokens + position % kPageTokens) * rowFloats();
}
const float* PagedKvStore::keys(int32_t layer, int64_t position) const {
    return pageBase(layer, position) + (position % kPageTokens) * rowFloats();
}
const float* PagedKvStore::values(int32_t layer, int64_t position) const {
    return pageBase(layer, position) + (kPageTokens + position % kPageTokens) * rowFloats();
}

} // namespace hip::kv
