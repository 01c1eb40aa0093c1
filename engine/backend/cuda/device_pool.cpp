#include "backend/cuda/device_pool.h"

#include "backend/cuda/cuda_check.h"

#include <algorithm>
#include <utility>

namespace hip::backend {

std::string readableSize(uint64_t bytes) {
    if (bytes < (1u << 20)) return std::to_string((bytes + 512) >> 10) + " KiB";
    return std::to_string((bytes + (1u << 19)) >> 20) + " MiB";
}

DeviceAllocation& DeviceAllocation::operator=(DeviceAllocation&& other) noexcept {
    if (this != &other) {
        reset();
        pool_ = std::exchange(other.pool_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        use_ = other.use_;
    }
    return *this;
}

void DeviceAllocation::reset() {
    if (pool_) pool_->release(*this);
    pool_ = nullptr;
    data_ = nullptr;
    bytes_ = 0;
}

Result<DeviceAllocation> DevicePool::allocate(uint64_t bytes, DeviceUse use,
                                              const std::string& what) {
    DeviceAllocation allocation;
    if (bytes == 0) return allocation;
    if (budget_ > 0) {
        uint64_t held = 0;
        for (const auto& b : bytes_)
            held += b.load(std::memory_order_relaxed);
        if (held + bytes > budget_)
            return makeError(ErrorCode::OutOfMemory,
                             "over the GPU memory budget: " + what + " needs " +
                                 readableSize(bytes) + " but only " +
                                 readableSize(budget_ - std::min(held, budget_)) + " of the " +
                                 readableSize(budget_) +
                                 " budget is left; raise the budget, or choose a shorter context "
                                 "or a smaller model");
    }
    void* data = nullptr;
    const cudaError_t error = cudaMalloc(&data, bytes);
    if (error == cudaErrorMemoryAllocation) {
        cudaGetLastError(); // the failed allocation leaves no sticky error; clear the last one
        size_t freeBytes = 0, totalBytes = 0;
        cudaMemGetInfo(&freeBytes, &totalBytes);
        return makeError(ErrorCode::OutOfMemory,
                         "out of GPU memory: " + what + " needs " + readableSize(bytes) +
                             " but only " + readableSize(freeBytes) + " of " +
                             readableSize(totalBytes) +
                             " is free; choose a shorter context or a smaller model");
    }
    HIP_CUDA_TRY(error, "cudaMalloc for " + what);
    allocation.pool_ = this;
    allocation.data_ = data;
    allocation.bytes_ = bytes;
    allocation.use_ = use;
    bytes_[size_t(use)] += bytes;
    ++generation_;
    return allocation;
}

void DevicePool::release(DeviceAllocation& allocation) {
    // cudaFree waits for the device; a failure here (a lost device) has nobody to report to.
    cudaFree(allocation.data_);
    bytes_[size_t(allocation.use_)] -= allocation.bytes_;
}

Result<void*> Workspace::ensure(uint64_t bytes) {
    if (bytes <= buffer_.bytes()) return buffer_.data();
    auto grown = pool_.allocate(bytes, DeviceUse::Workspace, what_);
    HIP_TRY(grown);
    pool_.retire(std::move(buffer_));
    buffer_ = std::move(*grown);
    return buffer_.data();
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
    if (this != &other) {
        if (data_) cudaFreeHost(data_);
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

PinnedBuffer::~PinnedBuffer() {
    if (data_) cudaFreeHost(data_);
}

Result<PinnedBuffer> PinnedBuffer::allocate(uint64_t bytes) {
    PinnedBuffer buffer;
    HIP_CUDA_TRY(cudaHostAlloc(&buffer.data_, bytes, cudaHostAllocDefault),
                 "cudaHostAlloc of " + readableSize(bytes));
    buffer.bytes_ = bytes;
    return buffer;
}

} // namespace hip::backend
