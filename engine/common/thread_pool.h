#pragma once
// A fixed set of worker threads running index-parallel loops. The calling thread takes part, so a
// pool of N threads has N - 1 workers.
//
// A decode step runs several hundred short loops (each a few microseconds of work), so waking a
// sleeping worker per loop would cost as much as the work: workers and the caller spin for a
// bounded while on atomics before they sleep (std::atomic wait, a futex on Linux).

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace hip {

class ThreadPool {
public:
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threads() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls task(i, thread) for every i in [0, count), spread over the threads; returns when all
    // are done. `thread` in [0, threads()) lets tasks use per-thread scratch memory. Not reentrant:
    // one loop at a time, started from one thread.
    void parallelFor(int64_t count, const std::function<void(int64_t index, int thread)>& task);

private:
    void workerLoop(int thread);
    void runShare(int thread);

    // No index left to claim: the state between loops.
    static constexpr uint64_t kClosed = 0xFFFFFFFFu;

    std::vector<std::thread> workers_;
    const std::function<void(int64_t, int)>* task_ = nullptr; // published by claim_
    std::atomic<int64_t> count_{0};                           // published by claim_
    // The loop's generation in the high 32 bits, the next index to hand out in the low ones. A
    // worker that wakes late, after its loop ended, finds nothing to claim, so the caller waits
    // for the indices to be done, never for a worker that was not scheduled.
    std::atomic<uint64_t> claim_{kClosed};
    std::atomic<uint32_t> finished_{0};   // indices done in the current loop
    std::atomic<uint32_t> generation_{0}; // bumped to wake the workers for a loop
    std::atomic<bool> stopping_{false};
};

} // namespace hip
