#pragma once
// A fixed set of worker threads running index-parallel loops. The calling thread takes part, so a
// pool of N threads has N - 1 workers.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
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
    // are done. `thread` in [0, threads()) lets tasks use per-thread scratch memory.
    void parallelFor(int64_t count, const std::function<void(int64_t index, int thread)>& task);

private:
    void workerLoop(int thread);
    void runShare(int thread);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int)>* task_ = nullptr;
    int64_t count_ = 0;
    int64_t next_ = 0; // next index to hand out (guarded by mutex_)
    int busy_ = 0;     // workers still inside the current loop
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

} // namespace hip
