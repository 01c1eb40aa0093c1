#pragma once
// The one stream every part of the CUDA backend queues its work on, the decode graph it records
// into, and the first error of that work.
//
// The interface's void calls cannot report errors, so the first failure is kept, later work is
// skipped, and the error comes back from the next attention(), copyToHost() or takeError().
// Between beginStep() and runStep() (a decode step, see backend.h) launches are recorded and run
// at the end as one CUDA graph (decode_graph.h); at any other time they run at once.

#include "backend/cuda/decode_graph.h"
#include "hip/status.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <initializer_list>

namespace hip::backend {

class LaunchQueue {
public:
    using Launch = DecodeGraph::Launch;

    LaunchQueue() = default;
    LaunchQueue(const LaunchQueue&) = delete;
    LaunchQueue& operator=(const LaunchQueue&) = delete;
    ~LaunchQueue();
    Status initialize();

    cudaStream_t stream() const { return stream_; }

    // Runs `launch` now, or records it while a step is being recorded; nothing after a failure.
    void submit(Launch launch);
    // Keeps the first failure.
    void fail(const Status& status) {
        if (error_.isOk() && !status.isOk()) error_ = status;
    }
    bool failed() const { return !error_.isOk(); }
    Status takeError();
    // Launches submitted, and steps begun, ended or abandoned, so far: work that caches a result
    // on the device (a quantized activation) checks nothing ran in between.
    uint64_t events() const { return events_; }

    bool recording() const { return graph_.recording(); }
    // Starts recording a decode step (dropping an unfinished one).
    void beginStep();
    // Adds words that identify the step's work (an interface call and its arguments): a step
    // whose words match the last captured one replays its graph.
    void identify(std::initializer_list<uint64_t> words) {
        if (graph_.recording()) graph_.identify(words);
    }
    // Ends the step: runs its graph on the stream (asynchronously). After a failure in the step
    // nothing runs and the failure is returned.
    Status runStep();
    // Drops an unfinished step; nothing it recorded runs.
    void abandonStep();
    uint64_t replays() const { return graph_.replays(); }

private:
    cudaStream_t stream_ = nullptr;
    DecodeGraph graph_;
    Status error_;
    uint64_t events_ = 0;
};

} // namespace hip::backend
