#include "request_queue.h"

namespace serve {

RequestQueue::RequestQueue(size_t capacity) : capacity_(capacity), worker_([this] { run(); }) {}

RequestQueue::~RequestQueue() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        tasks_.clear();
    }
    wake_.notify_all();
    worker_.join();
}

bool RequestQueue::push(Task task) {
    {
        std::lock_guard lock(mutex_);
        if (tasks_.size() >= capacity_) return false;
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
}

size_t RequestQueue::waiting() const {
    std::lock_guard lock(mutex_);
    return tasks_.size();
}

void RequestQueue::run() {
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (stopping_) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

} // namespace serve
