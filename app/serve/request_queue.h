#pragma once
// One engine, many clients: requests run one at a time on a worker thread, in the order they
// arrived (first in, first out), so no client can starve another. The queue is bounded; a
// request that finds it full is refused at once rather than left waiting without end.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace serve {

class RequestQueue {
public:
    using Task = std::function<void()>;

    explicit RequestQueue(size_t capacity);
    // Runs no further tasks: waits for the running one (whose owner cancels it) and drops the rest.
    ~RequestQueue();

    // False when `capacity` tasks are already waiting.
    bool push(Task task);
    // Tasks waiting, not counting the running one.
    size_t waiting() const;

private:
    void run();

    const size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> tasks_;
    bool stopping_ = false;
    std::thread worker_;
};

} // namespace serve
