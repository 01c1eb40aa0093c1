#include "backend/cuda/launch_queue.h"

#include "backend/cuda/cuda_check.h"

namespace hip::backend {

LaunchQueue::~LaunchQueue() {
    if (stream_) {
        cudaStreamSynchronize(stream_);
        cudaStreamDestroy(stream_);
    }
}

Status LaunchQueue::initialize() {
    HIP_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    return Status::ok();
}

void LaunchQueue::submit(Launch launch) {
    ++events_;
    if (failed()) return;
    if (graph_.recording()) {
        graph_.record(std::move(launch));
        return;
    }
    fail(launch(stream_));
}

Status LaunchQueue::takeError() {
    Status error = std::move(error_);
    error_ = Status::ok();
    return error;
}

void LaunchQueue::beginStep() {
    ++events_;
    graph_.begin();
}

Status LaunchQueue::runStep() {
    ++events_;
    if (failed()) {
        graph_.abandon();
        return takeError();
    }
    return graph_.run(stream_);
}

void LaunchQueue::abandonStep() {
    if (!graph_.recording()) return;
    ++events_;
    graph_.abandon();
}

} // namespace hip::backend
