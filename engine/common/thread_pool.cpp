#include "common/thread_pool.h"

namespace hip {

ThreadPool::ThreadPool(int threads) {
    for (int t = 1; t < threads; ++t)
        workers_.emplace_back([this, t] { workerLoop(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_)
        worker.join();
}

void ThreadPool::runShare(int thread) {
    for (;;) {
        int64_t index;
        {
            std::lock_guard lock(mutex_);
            if (next_ >= count_) return;
            index = next_++;
        }
        (*task_)(index, thread);
    }
}

void ThreadPool::workerLoop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        runShare(thread);
        {
            std::lock_guard lock(mutex_);
            if (--busy_ == 0) done_.notify_one();
        }
    }
}

void ThreadPool::parallelFor(int64_t count,
                             const std::function<void(int64_t index, int thread)>& task) {
    if (count <= 0) return;
    if (workers_.empty() || count == 1) {
        for (int64_t i = 0; i < count; ++i)
            task(i, 0);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        task_ = &task;
        count_ = count;
        next_ = 0;
        busy_ = static_cast<int>(workers_.size());
        ++generation_;
    }
    wake_.notify_all();
    runShare(0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    task_ = nullptr;
}

} // namespace hip
