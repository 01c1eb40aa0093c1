#pragma once
// Device memory of the CUDA backend. Every allocation goes through the pool, which knows what it
// is for (the memory report comes from these real allocations) and turns an out-of-memory
// failure into an error that says what was needed and what was free. Buffers that grow
// (workspaces) only grow, and never inside the decode loop once the first step ran: the token
// loop does not call cudaMalloc.

#include "hip/status.h"

#include <cuda_runtime_api.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace hip::backend {

enum class DeviceUse { Weights, KvCache, Activations, Workspace };

class DevicePool;

// A device allocation that gives its bytes back to the pool when destroyed.
class DeviceAllocation {
public:
    DeviceAllocation() = default;
    DeviceAllocation(DeviceAllocation&& other) noexcept { *this = std::move(other); }
    DeviceAllocation& operator=(DeviceAllocation&& other) noexcept;
    DeviceAllocation(const DeviceAllocation&) = delete;
    DeviceAllocation& operator=(const DeviceAllocation&) = delete;
    ~DeviceAllocation() { reset(); }

    void* data() const { return data_; }
    template <class T> T* as() const { return static_cast<T*>(data_); }
    uint64_t bytes() const { return bytes_; }
    void reset();

private:
    friend class DevicePool;
    DevicePool* pool_ = nullptr;
    void* data_ = nullptr;
    uint64_t bytes_ = 0;
    DeviceUse use_ = DeviceUse::Workspace;
};

class DevicePool {
public:
    // `budget`: the most bytes the pool may hold at once (0: as much as the device has).
    explicit DevicePool(uint64_t budget = 0) : budget_(budget) {}
    DevicePool(const DevicePool&) = delete;
    DevicePool& operator=(const DevicePool&) = delete;

    // `what` names the allocation in the error ("the KV cache for 8192 tokens").
    Result<DeviceAllocation> allocate(uint64_t bytes, DeviceUse use, const std::string& what);
    // Safe to call from any thread (the app samples memory while the engine runs).
    uint64_t bytesIn(DeviceUse use) const {
        return bytes_[size_t(use)].load(std::memory_order_relaxed);
    }
    // Changes whenever memory is allocated: work recorded against older pointers is stale.
    uint64_t generation() const { return generation_; }

    // Keeps a replaced buffer alive until releaseRetired(): queued work may still read it.
    void retire(DeviceAllocation old) { retired_.push_back(std::move(old)); }
    // Frees retired buffers; call only when the device has finished all queued work.
    void releaseRetired() { retired_.clear(); }

private:
    friend class DeviceAllocation;
    void release(DeviceAllocation& allocation);

    uint64_t budget_ = 0;
    std::array<std::atomic<uint64_t>, 4> bytes_{};
    uint64_t generation_ = 0;
    std::vector<DeviceAllocation> retired_;
};

// A scratch buffer that grows to the largest size asked for.
class Workspace {
public:
    Workspace(DevicePool& pool, std::string what) : pool_(pool), what_(std::move(what)) {}
    Result<void*> ensure(uint64_t bytes);
    uint64_t bytes() const { return buffer_.bytes(); }

private:
    DevicePool& pool_;
    std::string what_;
    DeviceAllocation buffer_;
};

// Page-locked host memory: copies from and to it run asynchronously and at full speed, and a
// captured graph may read it.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    PinnedBuffer(PinnedBuffer&& other) noexcept { *this = std::move(other); }
    PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
    ~PinnedBuffer();
    static Result<PinnedBuffer> allocate(uint64_t bytes);
    template <class T> T* as() const { return static_cast<T*>(data_); }
    uint64_t bytes() const { return bytes_; }

private:
    void* data_ = nullptr;
    uint64_t bytes_ = 0;
};

// "512 KiB", "37 MiB": sizes for messages.
std::string readableSize(uint64_t bytes);

} // namespace hip::backend
