#include "common/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hip {
namespace {

// How a thread waits for the others before it sleeps: first polling (longer than the serial gaps
// between the loops of a decode step), then yielding the core, which lets a thread that was
// descheduled on a busy machine run instead of being spun against; a few hundred microseconds in
// all, so an idle pool costs nothing noticeable.
constexpr int kPollIterations = 4000;
constexpr int kYieldIterations = 200;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// Waits until `done()` holds or the budget is spent; returns done().
template <typename Done> bool spinUntil(Done done) {
    for (int i = 0; i < kPollIterations; ++i) {
        if (done()) return true;
        cpuRelax();
    }
    for (int i = 0; i < kYieldIterations; ++i) {
        if (done()) return true;
        std::this_thread::yield();
    }
    return done();
}

} // namespace

ThreadPool::ThreadPool(int threads) {
    for (int t = 1; t < threads; ++t)
        workers_.emplace_back([this, t] { workerLoop(t); });
}

ThreadPool::~ThreadPool() {
    stopping_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& worker : workers_)
        worker.join();
}

void ThreadPool::runShare(int thread) {
    for (;;) {
        uint64_t claim = claim_.load(std::memory_order_acquire);
        int64_t index;
        do {
            index = int64_t(claim & kClosed);
            if (index >= count_.load(std::memory_order_relaxed)) return;
        } while (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire));
        (*task_)(index, thread);
        if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 ==
            uint32_t(count_.load(std::memory_order_relaxed)))
            finished_.notify_one();
    }
}

void ThreadPool::workerLoop(int thread) {
    uint32_t seen = 0;
    for (;;) {
        const auto woken = [&] { return generation_.load(std::memory_order_acquire) != seen; };
        if (!spinUntil(woken))
            while (!woken())
                generation_.wait(seen, std::memory_order_acquire);
        seen = generation_.load(std::memory_order_acquire);
        if (stopping_.load(std::memory_order_acquire)) return;
        runShare(thread);
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
    const uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
    task_ = &task;
    count_.store(count, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    claim_.store(uint64_t(generation) << 32, std::memory_order_release);
    generation_.store(generation, std::memory_order_release);
    generation_.notify_all();
    runShare(0);
    const auto allDone = [&] {
        return finished_.load(std::memory_order_acquire) == uint32_t(count);
    };
    if (!spinUntil(allDone))
        for (uint32_t done = finished_.load(std::memory_order_acquire); done != uint32_t(count);
             done = finished_.load(std::memory_order_acquire))
            finished_.wait(done, std::memory_order_acquire);
    claim_.store((uint64_t(generation) << 32) | kClosed, std::memory_order_release);
    task_ = nullptr;
}

} // namespace hip
