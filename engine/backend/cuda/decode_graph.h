#pragma once
// CUDA graphs for decoding. A decode step (one token through the whole model) is a few hundred
// small kernels, so launching them one by one costs more than running them. During a step the
// backend records each launch instead of running it, together with words that identify the work
// (the interface call and its arguments); at the end of the step the launches run as one graph.
// Step inputs that change every token (token id, position) are read by the kernels from device
// memory, so the same graph serves every step: if a step's words match the last captured step's,
// the graph is replayed without launching anything; otherwise the launches are captured anew.

#include "hip/status.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

namespace hip::backend {

class DecodeGraph {
public:
    using Launch = std::function<Status(cudaStream_t)>;

    DecodeGraph() = default;
    DecodeGraph(const DecodeGraph&) = delete;
    DecodeGraph& operator=(const DecodeGraph&) = delete;
    ~DecodeGraph();

    bool recording() const { return recording_; }
    // Starts a step, dropping launches recorded by an unfinished one.
    void begin();
    // Adds identifying words to the step (also for work that records no launch).
    void identify(std::initializer_list<uint64_t> words);
    void record(Launch launch) { launches_.push_back(std::move(launch)); }
    // Ends the step and runs it on `stream` (asynchronously).
    Status run(cudaStream_t stream);
    // Abandons an unfinished step (its forward pass failed); nothing recorded runs.
    void abandon() {
        recording_ = false;
        launches_.clear();
    }
    // Steps that replayed the last graph instead of capturing one (tests check graphs are reused).
    uint64_t replays() const { return replays_; }

private:
    Status capture(cudaStream_t stream);

    bool recording_ = false;
    uint64_t signature_ = 0;
    std::vector<Launch> launches_;
    uint64_t graphSignature_ = 0;
    cudaGraphExec_t graph_ = nullptr;
    uint64_t replays_ = 0;
};

} // namespace hip::backend
