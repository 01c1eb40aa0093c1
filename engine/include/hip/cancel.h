#pragma once
// Cooperative cancellation and progress reporting shared by every long engine operation.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace hip {

// A copyable handle to one cancellation flag: the UI keeps a copy and calls cancel(); the engine
// polls isCancelled() between layers, chunks and tokens.
class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { flag_->store(true, std::memory_order_relaxed); }
    bool isCancelled() const { return flag_->load(std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

struct Progress {
    std::string stage; // what is being done, for a person ("mapping tensors", "prefill")
    int64_t done = 0;
    int64_t total = 0;
    // Reading a document (Session::ingest): bytes of its text the done tokens stand for, so a
    // front end can count the pages read; -1 for other work.
    int64_t documentBytesDone = -1;
};

using ProgressCallback = std::function<void(const Progress&)>;

} // namespace hip
