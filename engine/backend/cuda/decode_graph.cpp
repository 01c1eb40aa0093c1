#include "backend/cuda/decode_graph.h"

#include "backend/cuda/cuda_check.h"

namespace hip::backend {
namespace {

// FNV-1a over 64-bit words, then one more mix: a collision would need two different steps with
// the same hash, which identical call sequences with different pointers do not produce in practice.
uint64_t mix(uint64_t hash, uint64_t word) {
    for (int byte = 0; byte < 8; ++byte) {
        hash ^= (word >> (8 * byte)) & 0xFF;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

} // namespace

DecodeGraph::~DecodeGraph() {
    if (graph_) cudaGraphExecDestroy(graph_);
}

void DecodeGraph::begin() {
    recording_ = true;
    signature_ = 0xcbf29ce484222325ull;
    launches_.clear();
}

void DecodeGraph::identify(std::initializer_list<uint64_t> words) {
    for (uint64_t word : words)
        signature_ = mix(signature_, word);
}

Status DecodeGraph::run(cudaStream_t stream) {
    recording_ = false;
    signature_ = mix(signature_, launches_.size());
    if (!graph_ || signature_ != graphSignature_)
        HIP_TRY(capture(stream));
    else
        ++replays_;
    launches_.clear();
    HIP_CUDA_TRY(cudaGraphLaunch(graph_, stream), "cudaGraphLaunch");
    return Status::ok();
}

Status DecodeGraph::capture(cudaStream_t stream) {
    HIP_CUDA_TRY(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
                 "cudaStreamBeginCapture");
    Status launched = Status::ok();
    for (const Launch& launch : launches_) {
        launched = launch(stream);
        if (!launched) break;
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t endError = cudaStreamEndCapture(stream, &graph);
    HIP_TRY(launched.withContext("capturing the decode graph"));
    HIP_CUDA_TRY(endError, "cudaStreamEndCapture");

    // Same topology as the last graph (the usual case after a reallocation): update in place.
    if (graph_) {
        cudaGraphExecUpdateResultInfo info{};
        if (cudaGraphExecUpdate(graph_, graph, &info) != cudaSuccess) {
            cudaGetLastError(); // a failed update is not an error: instantiate instead
            cudaGraphExecDestroy(graph_);
            graph_ = nullptr;
        }
    }
    cudaError_t instantiateError = cudaSuccess;
    if (!graph_) instantiateError = cudaGraphInstantiate(&graph_, graph, 0);
    cudaGraphDestroy(graph);
    HIP_CUDA_TRY(instantiateError, "cudaGraphInstantiate");
    graphSignature_ = signature_;
    return Status::ok();
}

} // namespace hip::backend
