#include "backend/cuda/step_inputs.h"

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/step_words.h"

#include <algorithm>

namespace hip::backend {
namespace {

// Rows allocated up front: a prefill chunk, so decode never grows the buffers.
constexpr int64_t kInitialRows = 4096;

} // namespace

StepInputs::~StepInputs() {
    if (uploaded_) cudaEventDestroy(uploaded_);
}

Status StepInputs::initialize() {
    HIP_CUDA_TRY(cudaEventCreateWithFlags(&uploaded_, cudaEventDisableTiming), "cudaEventCreate");
    return reserve(kInitialRows);
}

Status StepInputs::reserve(int64_t rows) {
    if (rows <= capacity_) return Status::ok();
    // Growing waits for queued copies out of the old pinned mirrors.
    HIP_CUDA_TRY(cudaStreamSynchronize(queue_.stream()), "cudaStreamSynchronize");
    const int64_t capacity = std::max(kInitialRows, rows);
    const uint64_t bytes = uint64_t(capacity + 1) * sizeof(int32_t);
    auto tokens = pool_.allocate(bytes, DeviceUse::Workspace, "token ids");
    HIP_TRY(tokens);
    auto positions = pool_.allocate(bytes, DeviceUse::Workspace, "token positions");
    HIP_TRY(positions);
    auto hostTokens = PinnedBuffer::allocate(bytes);
    HIP_TRY(hostTokens);
    auto hostPositions = PinnedBuffer::allocate(bytes);
    HIP_TRY(hostPositions);
    pool_.retire(std::move(tokens_));
    pool_.retire(std::move(positions_));
    tokens_ = std::move(*tokens);
    positions_ = std::move(*positions);
    hostTokens_ = std::move(*hostTokens);
    hostPositions_ = std::move(*hostPositions);
    capacity_ = capacity;
    forget(); // the new buffers hold nothing yet
    return Status::ok();
}

Status StepInputs::uploadTokens(const std::vector<int32_t>& tokens) {
    HIP_TRY(reserve(int64_t(tokens.size())));
    HIP_CUDA_TRY(cudaEventSynchronize(uploaded_), "waiting for the last upload");
    std::copy(tokens.begin(), tokens.end(), hostTokens_.as<int32_t>());
    int32_t* device = tokens_.as<int32_t>();
    const int32_t* host = hostTokens_.as<int32_t>();
    const size_t bytes = tokens.size() * sizeof(int32_t);
    queue_.identify({word(StepOp::Inputs), word(device), word(host), uint64_t(bytes)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, s),
                          "uploading token ids");
    });
    if (!queue_.recording())
        HIP_CUDA_TRY(cudaEventRecord(uploaded_, queue_.stream()), "cudaEventRecord");
    return Status::ok();
}

Status StepInputs::uploadPositions(int64_t start, int64_t rows) {
    HIP_TRY(reserve(rows));
    // A decode step uploads once (so every step has the same launches); eager work only when the
    // rows changed.
    if (queue_.recording() ? positionsInStep_ : (start == uploadedStart_ && rows == uploadedRows_))
        return Status::ok();
    HIP_CUDA_TRY(cudaEventSynchronize(uploaded_), "waiting for the last upload");
    int32_t* host = hostPositions_.as<int32_t>();
    host[0] = int32_t(start + rows);
    for (int64_t r = 0; r < rows; ++r)
        host[1 + r] = int32_t(start + r);
    int32_t* device = positions_.as<int32_t>();
    const size_t bytes = size_t(rows + 1) * sizeof(int32_t);
    queue_.identify({word(StepOp::Inputs), word(device), word(host), uint64_t(bytes)});
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, s),
                          "uploading token positions");
    });
    if (!queue_.recording())
        HIP_CUDA_TRY(cudaEventRecord(uploaded_, queue_.stream()), "cudaEventRecord");
    uploadedStart_ = start;
    uploadedRows_ = rows;
    positionsInStep_ = true;
    return Status::ok();
}

} // namespace hip::backend
