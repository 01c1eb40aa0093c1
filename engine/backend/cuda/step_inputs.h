#pragma once
// The inputs of a forward pass that kernels read from device memory: the token ids, and
// [length, position of row 0, row 1, ...]. They are uploaded from pinned mirrors, which a captured
// decode graph reads again at every replay, so one graph serves every decode step.

#include "backend/cuda/device_pool.h"
#include "backend/cuda/launch_queue.h"

#include <cstdint>
#include <vector>

namespace hip::backend {

class StepInputs {
public:
    StepInputs(DevicePool& pool, LaunchQueue& queue) : pool_(pool), queue_(queue) {}
    StepInputs(const StepInputs&) = delete;
    StepInputs& operator=(const StepInputs&) = delete;
    ~StepInputs();
    // Allocates the buffers for the usual prefill chunk, so decode never grows them.
    Status initialize();

    // A decode step uploads its positions once, at its first attention.
    void beginStep() { positionsInStep_ = false; }
    // What the buffers hold is unknown (a recorded upload was dropped).
    void forget() { uploadedRows_ = -1; }

    Status uploadTokens(const std::vector<int32_t>& tokens);
    // Rows sit at positions start + r; the length is start + rows. Uploads only when they changed.
    Status uploadPositions(int64_t start, int64_t rows);

    const int32_t* tokens() const { return tokens_.as<int32_t>(); }
    const int32_t* length() const { return positions_.as<int32_t>(); }
    const int32_t* positions() const { return positions_.as<int32_t>() + 1; }

private:
    Status reserve(int64_t rows);

    DevicePool& pool_;
    LaunchQueue& queue_;
    DeviceAllocation tokens_, positions_;
    PinnedBuffer hostTokens_, hostPositions_;
    int64_t capacity_ = 0; // rows the buffers hold
    cudaEvent_t uploaded_ = nullptr;
    int64_t uploadedStart_ = -1, uploadedRows_ = -1;
    bool positionsInStep_ = false;
};

} // namespace hip::backend
