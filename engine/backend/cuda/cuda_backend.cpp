#include "backend/cuda/cuda_backend.h"

#include "backend/cuda/cuda_check.h"
#include "kernels/attention_mass.h"
#include "kernels/convert.h"
#include "kernels/dequantize.h"
#include "kernels/embedding.h"
#include "kernels/flash_decode.h"
#include "kernels/kv_append.h"
#include "kernels/matvec.h"
#include "kernels/quantize_activations.h"
#include "kernels/residual_add.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/sampling.h"
#include "kernels/swiglu.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace hip::backend {
namespace {

using quant::GgmlType;

// Up to this many rows a product runs as matrix-vector products over the quantized weights
// (one per row); above it, dequantized tiles go through cuBLAS.
constexpr int64_t kMatvecMaxRows = 4;
// Largest dequantized weight tile handed to one GEMM.
constexpr uint64_t kDequantTileBytes = 256ull << 20;
// Step input rows allocated up front: decode never grows these buffers.
constexpr int64_t kInitialInputRows = 4096;
// Repetition-penalty ids the sampler's buffers hold from the start (the default window is 64).
constexpr size_t kInitialPenalizedIds = 1024;

// Interface calls, as the first word of their identity in a decode step.
enum class Op : uint64_t {
    Embed = 1,
    RmsNorm,
    AddRmsNorm,
    Matmul,
    Add,
    Swiglu,
    Attention,
    Inputs,
    Matvecs, // a launch of the pending products (after their Matmul words)
};

uint64_t word(const void* p) {
    return uint64_t(reinterpret_cast<uintptr_t>(p));
}
uint64_t word(int64_t v) {
    return uint64_t(v);
}
uint64_t word(float v) {
    return std::bit_cast<uint32_t>(v);
}
uint64_t word(Op op) {
    return uint64_t(op);
}
uint64_t word(const Act& a) {
    uint64_t h = word(a.data);
    for (uint64_t part : {uint64_t(a.rows), uint64_t(a.cols), uint64_t(a.stride)})
        h = (h ^ part) * 0x9E3779B97F4A7C15ull + (h >> 29);
    return h;
}

kernels::Rows rows(const Act& a) {
    return {a.data, a.rows, a.cols, a.stride};
}

bool sameAct(const Act& a, const Act& b) {
    return a.data == b.data && a.rows == b.rows && a.cols == b.cols && a.stride == b.stride;
}

// Whether the memory spans of a and b (first value to last) intersect.
bool overlaps(const Act& a, const Act& b) {
    if (!a.data || !b.data || a.rows == 0 || b.rows == 0) return false;
    const auto begin = [](const Act& m) { return reinterpret_cast<uintptr_t>(m.data); };
    const auto end = [](const Act& m) {
        return reinterpret_cast<uintptr_t>(m.row(m.rows - 1) + m.cols);
    };
    return begin(a) < end(b) && begin(b) < end(a);
}

// The GPU handles exactly the formats the CPU reference can dequantize.
bool supportedType(GgmlType type) {
    return quant::traits(type).dequantizable;
}

class CudaWeight final : public Weight {
public:
    CudaWeight(const WeightView& view, DeviceAllocation memory, uint64_t rowBytes)
        : view_(view), memory_(std::move(memory)), rowBytes_(rowBytes) {
        view_.data = memory_.data();
    }
    const WeightView& view() const override { return view_; }
    uint64_t residentBytes() const override { return memory_.bytes(); }
    uint64_t rowBytes() const { return rowBytes_; }

private:
    WeightView view_;
    DeviceAllocation memory_;
    uint64_t rowBytes_;
};

uint64_t rowBytesOf(const Weight& w) {
    return static_cast<const CudaWeight&>(w).rowBytes();
}

class CudaBuffer final : public Buffer {
public:
    CudaBuffer(DeviceAllocation memory, int64_t floats)
        : memory_(std::move(memory)), floats_(floats) {}
    float* data() override { return memory_.as<float>(); }
    int64_t floats() const override { return floats_; }

private:
    DeviceAllocation memory_;
    int64_t floats_;
};

Status launched(cudaError_t error, const char* kernel) {
    return cudaStatus(error, kernel);
}

} // namespace

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(const CudaBackendOptions& options) {
    const int index = options.device >= 0 ? options.device : defaultCudaDevice();
    auto device = queryCudaDevice(index);
    HIP_TRY(device);
    std::unique_ptr<CudaBackend> backend(new CudaBackend(*device, options));
    HIP_TRY(backend->initialize());
    return backend;
}

Status CudaBackend::initialize() {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    HIP_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    HIP_CUDA_TRY(cudaEventCreateWithFlags(&uploaded_, cudaEventDisableTiming), "cudaEventCreate");
    HIP_TRY(cublasStatus(cublasCreate(&cublas_), "cublasCreate"));
    HIP_TRY(cublasStatus(cublasSetStream(cublas_, stream_), "cublasSetStream"));
    auto token = pool_.allocate(sizeof(int32_t), DeviceUse::Workspace, "the sampled token");
    HIP_TRY(token);
    sampledToken_ = std::move(*token);
    HIP_TRY(reservePenalizedIds(kInitialPenalizedIds));
    HIP_TRY(reserveInputs(kInitialInputRows));
    return Status::ok();
}

CudaBackend::~CudaBackend() {
    if (stream_) cudaStreamSynchronize(stream_);
    if (cublas_) cublasDestroy(cublas_);
    if (uploaded_) cudaEventDestroy(uploaded_);
    if (stream_) cudaStreamDestroy(stream_);
}

std::string CudaBackend::name() const {
    return device_.name + " (CUDA, sm_" + std::to_string(device_.computeMajor) +
           std::to_string(device_.computeMinor) + ")";
}

void CudaBackend::submit(DecodeGraph::Launch launch) {
    quantizedX_ = {};
    enqueue(std::move(launch));
}

void CudaBackend::enqueue(DecodeGraph::Launch launch) {
    if (!error_.isOk()) return;
    if (graph_.recording()) {
        graph_.record(std::move(launch));
        return;
    }
    fail(launch(stream_));
}

Status CudaBackend::takeError() {
    Status error = std::move(error_);
    error_ = Status::ok();
    return error;
}

Result<std::unique_ptr<Weight>> CudaBackend::uploadWeight(const WeightView& weight) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    if (!supportedType(weight.type))
        return makeError(ErrorCode::Unsupported,
                         "tensor '" + weight.name + "' has type " +
                             std::string(quant::typeName(weight.type)) +
                             ", which the CUDA backend cannot compute with");
    if (weight.rows > 1 && weight.cols % 32 != 0)
        return makeError(ErrorCode::Unsupported,
                         "tensor '" + weight.name + "' has rows of " + std::to_string(weight.cols) +
                             " values; the CUDA kernels need a multiple of 32");
    const auto rowBytes = quant::rowBytes(weight.type, weight.cols);
    if (!rowBytes)
        return makeError(ErrorCode::InvalidFile, "tensor '" + weight.name + "' has a bad shape");
    const uint64_t bytes = *rowBytes * uint64_t(weight.rows);
    auto memory = pool_.allocate(bytes, DeviceUse::Weights, "tensor '" + weight.name + "'");
    HIP_TRY(memory);
    HIP_CUDA_TRY(
        cudaMemcpyAsync(memory->data(), weight.data, bytes, cudaMemcpyHostToDevice, stream_),
        "uploading tensor '" + weight.name + "'");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream_), "uploading tensor '" + weight.name + "'");
    return std::unique_ptr<Weight>(
        std::make_unique<CudaWeight>(weight, std::move(*memory), *rowBytes));
}

Result<std::unique_ptr<Buffer>> CudaBackend::allocate(int64_t floats) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    auto memory =
        pool_.allocate(uint64_t(floats) * sizeof(float), DeviceUse::Activations, "activations");
    HIP_TRY(memory);
    return std::unique_ptr<Buffer>(std::make_unique<CudaBuffer>(std::move(*memory), floats));
}

Result<std::unique_ptr<KvCache>> CudaBackend::createKvCache(const KvCacheShape& shape) {
    HIP_CUDA_TRY(cudaSetDevice(device_.index), "cudaSetDevice");
    kernels::KvLayer layer;
    layer.kvHeads = shape.kvHeads;
    layer.headDim = shape.headDim;
    layer.capacity = shape.capacity;
    layer.type = options_.kvType;
    const int32_t splits = kernels::decodeSplits(layer, device_.multiprocessors);
    auto cache = CudaKvCache::create(shape, options_.kvType, splits, pool_, stream_);
    HIP_TRY(cache);
    maxCapacity_ = std::max(maxCapacity_, shape.capacity);
    return std::unique_ptr<KvCache>(std::move(*cache));
}

BackendMemory CudaBackend::memory() const {
    BackendMemory memory;
    memory.kvOnDevice = true;
    memory.workspaceBytes = pool_.bytesIn(DeviceUse::Workspace);
    size_t freeBytes = 0, totalBytes = 0;
    if (cudaSetDevice(device_.index) == cudaSuccess &&
        cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
        memory.freeBytes = freeBytes;
        memory.totalBytes = totalBytes;
    }
    return memory;
}

Status CudaBackend::reserveInputs(int64_t rowCount) {
    if (rowCount <= inputRows_) return Status::ok();
    // Growing waits for queued copies out of the old pinned mirrors.
    HIP_CUDA_TRY(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    const int64_t capacity = std::max(kInitialInputRows, rowCount);
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
    inputRows_ = capacity;
    uploadedRows_ = -1; // the new buffers hold nothing yet
    return Status::ok();
}

Status CudaBackend::uploadTokens(const std::vector<int32_t>& tokens) {
    HIP_TRY(reserveInputs(int64_t(tokens.size())));
    HIP_CUDA_TRY(cudaEventSynchronize(uploaded_), "waiting for the last upload");
    std::copy(tokens.begin(), tokens.end(), hostTokens_.as<int32_t>());
    int32_t* device = tokens_.as<int32_t>();
    const int32_t* host = hostTokens_.as<int32_t>();
    const size_t bytes = tokens.size() * sizeof(int32_t);
    identify({word(Op::Inputs), word(device), word(host), uint64_t(bytes)});
    submit([=](cudaStream_t s) {
        return launched(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, s),
                        "uploading token ids");
    });
    if (!graph_.recording()) HIP_CUDA_TRY(cudaEventRecord(uploaded_, stream_), "cudaEventRecord");
    return Status::ok();
}

// Device buffer [length, position of row 0, row 1, ...]: rows sit at start + r.
Status CudaBackend::uploadPositions(int64_t start, int64_t rowCount) {
    HIP_TRY(reserveInputs(rowCount));
    // A decode step uploads once (so every step has the same launches); eager work only when
    // the rows changed.
    if (graph_.recording() ? positionsInStep_
                           : (start == uploadedStart_ && rowCount == uploadedRows_))
        return Status::ok();
    HIP_CUDA_TRY(cudaEventSynchronize(uploaded_), "waiting for the last upload");
    int32_t* host = hostPositions_.as<int32_t>();
    host[0] = int32_t(start + rowCount);
    for (int64_t r = 0; r < rowCount; ++r)
        host[1 + r] = int32_t(start + r);
    int32_t* device = positions_.as<int32_t>();
    const size_t bytes = size_t(rowCount + 1) * sizeof(int32_t);
    identify({word(Op::Inputs), word(device), word(host), uint64_t(bytes)});
    submit([=](cudaStream_t s) {
        return launched(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, s),
                        "uploading token positions");
    });
    if (!graph_.recording()) HIP_CUDA_TRY(cudaEventRecord(uploaded_, stream_), "cudaEventRecord");
    uploadedStart_ = start;
    uploadedRows_ = rowCount;
    positionsInStep_ = true;
    return Status::ok();
}

void CudaBackend::abandonStep() {
    if (!graph_.recording()) return;
    graph_.abandon();
    stepMass_ = {};
    uploadedRows_ = -1; // a recorded upload never ran
    quantizedX_ = {};   // nor a recorded quantization
}

void CudaBackend::embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) {
    flushPending();
    cudaSetDevice(device_.index); // a forward pass may come from another thread than the last
    // One token is a decode step: record it for a graph. Anything else runs eagerly.
    abandonStep();
    if (tokens.size() == 1) {
        graph_.begin();
        positionsInStep_ = false;
    }
    fail(uploadTokens(tokens));
    const void* data = table.view().data;
    const GgmlType type = table.view().type;
    const int64_t rowBytes = int64_t(rowBytesOf(table));
    const int32_t* ids = tokens_.as<int32_t>();
    identify({word(Op::Embed), word(data), word(out)});
    submit([=](cudaStream_t s) {
        return launched(kernels::embed(data, type, rowBytes, ids, rows(out), s),
                        "the embedding kernel");
    });
}

void CudaBackend::rmsNorm(Act x, const Weight& gamma, float eps, Act out) {
    flushMatvecs(); // none while an add is pending: addInPlace flushed them
    const auto* g = static_cast<const float*>(gamma.view().data);
    if (pendingAdd_ && sameAct(pendingX_, x)) {
        pendingAdd_ = false;
        const Act y = pendingY_;
        identify({word(Op::AddRmsNorm), word(x), word(y), word(g), word(eps), word(out)});
        submit([=](cudaStream_t s) {
            const kernels::Rows residual = rows(y);
            return launched(kernels::rmsNorm(rows(x), &residual, g, eps, rows(out), s),
                            "the add + RMSNorm kernel");
        });
        return;
    }
    flushPendingAdd();
    identify({word(Op::RmsNorm), word(x), word(g), word(eps), word(out)});
    submit([=](cudaStream_t s) {
        return launched(kernels::rmsNorm(rows(x), nullptr, g, eps, rows(out), s),
                        "the RMSNorm kernel");
    });
}

void CudaBackend::addInPlace(Act x, Act y) {
    flushPending();
    pendingAdd_ = true;
    pendingX_ = x;
    pendingY_ = y;
}

void CudaBackend::flushPendingAdd() {
    if (!pendingAdd_) return;
    pendingAdd_ = false;
    const Act x = pendingX_, y = pendingY_;
    identify({word(Op::Add), word(x), word(y)});
    submit([=](cudaStream_t s) {
        return launched(kernels::addInPlace(rows(x), rows(y), s), "the residual add kernel");
    });
}

void CudaBackend::swiglu(Act gate, Act up, Act out) {
    flushPending();
    identify({word(Op::Swiglu), word(gate), word(up), word(out)});
    submit([=](cudaStream_t s) {
        return launched(kernels::swiglu(rows(gate), rows(up), rows(out), s), "the SwiGLU kernel");
    });
}

void CudaBackend::matmul(Act x, const Weight& w, const Weight* bias, Act out) {
    const WeightView& v = w.view();
    const float* b = bias ? static_cast<const float*>(bias->view().data) : nullptr;
    if (x.rows > kMatvecMaxRows || x.stride % 4 != 0) {
        flushPending();
        identify({word(Op::Matmul), word(x), word(v.data), word(b), word(out)});
        gemm(x, v, out);
        if (b)
            submit([=](cudaStream_t s) {
                return launched(kernels::addBias(rows(out), b, s), "the bias kernel");
            });
        return;
    }
    flushPendingAdd();
    if (!joinsMatvecs(x, v, out)) flushMatvecs();
    identify({word(Op::Matmul), word(x), word(v.data), word(b), word(out)});
    const uint8_t* quantized = nullptr;
    if (kernels::matvecReadsQuantizedX(v.type)) {
        auto held = quantizedInput(x);
        if (!held) return fail(held.status());
        quantized = *held;
    }
    PendingMatvecs& p = matvecs_;
    if (p.count == 0) {
        p.x = x;
        p.type = v.type;
        p.cols = v.cols;
        p.quantized = quantized;
    }
    p.matrices[p.count] = {v.data, int64_t(rowBytesOf(w)), v.rows, b, nullptr};
    p.outs[p.count] = out;
    ++p.count;
    // The products write only `out`: x stays held quantized for the next product.
    if (overlaps(out, quantizedX_)) quantizedX_ = {};
    // A product writing over its own x runs alone: a later product of x reads what it wrote.
    if (overlaps(out, x)) flushMatvecs();
}

// Whether a product of x with `w` into `out` can join the pending ones: same x, format and
// columns, room left, and an output that overlaps neither x nor theirs (one launch reads x and
// writes all outputs at once).
bool CudaBackend::joinsMatvecs(Act x, const WeightView& w, Act out) const {
    const PendingMatvecs& p = matvecs_;
    if (p.count == 0 || p.count == kernels::kMatvecMaxMatrices || !sameAct(x, p.x) ||
        w.type != p.type || w.cols != p.cols || overlaps(out, x))
        return false;
    for (int i = 0; i < p.count; ++i)
        if (overlaps(out, p.outs[i])) return false;
    return true;
}

void CudaBackend::flushMatvecs() {
    PendingMatvecs& p = matvecs_;
    if (p.count == 0) return;
    const int count = p.count;
    p.count = 0;
    identify({word(Op::Matvecs), word(int64_t(count))});
    const GgmlType type = p.type;
    const int64_t cols = p.cols, quantizedStride = kernels::quantizedRowBytes(cols);
    for (int64_t r = 0; r < p.x.rows; ++r) {
        std::array<kernels::MatvecMatrix, kernels::kMatvecMaxMatrices> matrices{};
        for (int i = 0; i < count; ++i) {
            matrices[size_t(i)] = p.matrices[i];
            matrices[size_t(i)].y = p.outs[i].row(r);
        }
        const float* in = p.x.row(r);
        const void* inQuantized = p.quantized ? p.quantized + r * quantizedStride : nullptr;
        enqueue([=](cudaStream_t s) {
            return launched(kernels::matvec(matrices.data(), count, type, cols, in, inQuantized, s),
                            "the matrix-vector kernel");
        });
    }
}

// x quantized for the matrix-vector kernels over block formats. The buffer holds the last
// activation quantized, and consecutive products often read the same x (q, k and v read the
// normed x; so do gate and up): only the first queues the quantization. quantizedX_ is forgotten
// by every other launch (submit), by a product writing over it (matmul), and when a decode
// step's launches are dropped or have run (abandonStep, finishStep).
Result<const uint8_t*> CudaBackend::quantizedInput(Act x) {
    auto buffer =
        xQuantized_.ensure(uint64_t(x.rows) * uint64_t(kernels::quantizedRowBytes(x.cols)));
    HIP_TRY(buffer);
    void* quantized = *buffer;
    if (!sameAct(x, quantizedX_)) {
        enqueue([=](cudaStream_t s) {
            return launched(kernels::quantizeActivations(rows(x), quantized, s),
                            "the activation quantization kernel");
        });
        // Held only if the launch was queued, not skipped after an error.
        quantizedX_ = error_.isOk() ? x : Act{};
    }
    return static_cast<const uint8_t*>(quantized);
}

// out = x * W^T through cuBLAS. cuBLAS is column-major: out^T (W.rows x x.rows) = W * x^T, with W
// read as its transpose (row-major W.rows x cols is column-major cols x W.rows).
void CudaBackend::gemm(Act x, const WeightView& w, Act out) {
    cublasHandle_t handle = cublas_;
    const int inputs = int(w.cols), tokens = int(x.rows), outStride = int(out.stride);
    float* result = out.data;
    const auto product = [=](const void* weight, cudaDataType type, const void* input,
                             int64_t inputStride, int64_t firstRow, int64_t rowCount) {
        return [=](cudaStream_t) {
            const float one = 1.0f, zero = 0.0f;
            return cublasStatus(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(rowCount),
                                             tokens, inputs, &one, weight, type, inputs, input,
                                             type, int(inputStride), &zero, result + firstRow,
                                             CUDA_R_32F, outStride, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT),
                                "cublasGemmEx");
        };
    };
    if (w.type == GgmlType::F32) {
        submit(product(w.data, CUDA_R_32F, x.data, x.stride, 0, w.rows));
        return;
    }
    // F16 and BF16 weights are used in place; quantized ones are dequantized to fp16 in tiles.
    const kernels::Half16 operand =
        w.type == GgmlType::BF16 ? kernels::Half16::BF16 : kernels::Half16::F16;
    const cudaDataType type = operand == kernels::Half16::BF16 ? CUDA_R_16BF : CUDA_R_16F;
    auto input = xHalf_.ensure(uint64_t(x.rows) * uint64_t(w.cols) * 2u);
    if (!input) return fail(input.status());
    void* xh = *input;
    submit([=](cudaStream_t s) {
        return launched(kernels::convertRows(rows(x), xh, operand, s), "the conversion kernel");
    });
    if (w.type == GgmlType::F16 || w.type == GgmlType::BF16) {
        submit(product(w.data, type, xh, w.cols, 0, w.rows));
        return;
    }
    int64_t tileRows = std::max<int64_t>(1, int64_t(kDequantTileBytes / (uint64_t(w.cols) * 2u)));
    tileRows = std::min(tileRows, w.rows);
    auto tile = weightHalf_.ensure(uint64_t(tileRows) * uint64_t(w.cols) * 2u);
    if (!tile) return fail(tile.status());
    void* wh = *tile;
    const int64_t rowBytes = int64_t(*quant::rowBytes(w.type, w.cols)), cols = w.cols;
    const void* data = w.data;
    const GgmlType format = w.type;
    for (int64_t first = 0; first < w.rows; first += tileRows) {
        const int64_t count = std::min(tileRows, w.rows - first);
        submit([=](cudaStream_t s) {
            return launched(
                kernels::dequantizeRows(data, format, rowBytes, first, count, cols, wh, operand, s),
                "the dequantization kernel");
        });
        submit(product(wh, type, xh, w.cols, first, count));
    }
}

Result<const DeviceRopeTables*> CudaBackend::ropeTables(const RopeParams& params,
                                                        int64_t positions) {
    DeviceRopeTables* tables = nullptr;
    for (auto& existing : ropes_)
        if (sameRope(existing->params(), params)) tables = existing.get();
    if (!tables) {
        ropes_.push_back(std::make_unique<DeviceRopeTables>(params));
        tables = ropes_.back().get();
    }
    HIP_TRY(tables->cover(std::max(positions, maxCapacity_), pool_, stream_));
    return tables;
}

Status CudaBackend::checkAttention(const CudaKvCache& cache, int64_t end, int32_t layer, Act q,
                                   const AttentionParams& params) const {
    if (params.config && !params.config->denseAt(layer, end))
        return makeError(ErrorCode::Unsupported,
                         "HiP attention currently runs on the CPU backend only; load the model on "
                         "the CPU or choose dense attention");
    if (end > cache.capacity())
        return makeError(ErrorCode::InvalidArgument,
                         "the context is full: " + std::to_string(end) + " tokens needed, " +
                             std::to_string(cache.capacity()) + " allowed");
    HIP_TRY(supportsAttention(params));
    if (q.rows == 1 && cache.attentionMass && params.heads > 64)
        return makeError(ErrorCode::Unsupported, "the CUDA attention kernels do not support an "
                                                 "attention trace over more than 64 heads");
    return Status::ok();
}

Status CudaBackend::supportsAttention(const AttentionParams& params) const {
    const int32_t d = params.headDim;
    const RopeParams& rope = params.rope;
    std::string problem;
    if (!kernels::attentionSupportsHeadDim(d))
        problem = "head dimension " + std::to_string(d) + " (supported: 32, 64, 96, 128)";
    else if (params.kvHeads <= 0 || params.heads % params.kvHeads != 0)
        problem = std::to_string(params.heads) + " query heads over " +
                  std::to_string(params.kvHeads) + " KV heads";
    else if (params.heads / params.kvHeads > CudaKvCache::kMaxGroup)
        problem =
            "more than " + std::to_string(CudaKvCache::kMaxGroup) + " query heads per KV head";
    else if (rope.dims > d || rope.dims % 2 != 0)
        problem = "rotary dimensions " + std::to_string(rope.dims);
    if (!problem.empty())
        return makeError(ErrorCode::Unsupported,
                         "the CUDA attention kernels do not support " + problem);
    return Status::ok();
}

Status CudaBackend::attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                              const AttentionParams& params, Act out) {
    flushPending();
    cudaSetDevice(device_.index);
    auto& kv = static_cast<CudaKvCache&>(cache);
    const int64_t end = start + q.rows;
    Status status = checkAttention(kv, end, layer, q, params);
    const DeviceRopeTables* tables = nullptr;
    if (status.isOk()) {
        auto found = ropeTables(params.rope, end);
        if (found)
            tables = *found;
        else
            status = found.status();
    }
    if (status.isOk()) status = uploadPositions(start, q.rows);
    if (status.isOk()) {
        const kernels::RopeTables rope = tables->view();
        const kernels::KvLayer layerKv = kv.layer(layer);
        const int32_t* positions = positions_.as<int32_t>() + 1;
        identify({word(Op::Attention), word(&cache), word(int64_t(layer)), word(q), word(k),
                  word(v), word(out), word(int64_t(params.heads)), word(params.scale),
                  word(rope.cosSin), word(int64_t(q.rows == 1 && cache.attentionMass))});
        submit([=](cudaStream_t s) {
            return launched(kernels::appendKv(rows(k), rows(v), positions, rope, layerKv, s),
                            "the KV append kernel");
        });
        if (q.rows == 1)
            decode(kv, layerKv, rope, q, params, out, end);
        else
            prefill(layerKv, rope, start, q, params, out);
        if (layer == kv.layers() - 1) kv.setTokens(end);
    }
    fail(status);
    Status result = takeError();
    if (!result.isOk()) abandonStep();
    return result;
}

// One query row over keys [0, end): split-KV decoding, and the attention mass when the cache
// asks for it. Positions and length come from the step inputs in device memory.
void CudaBackend::decode(CudaKvCache& kv, const kernels::KvLayer& layer,
                         const kernels::RopeTables& rope, Act q, const AttentionParams& params,
                         Act out, int64_t end) {
    const int32_t* length = positions_.as<int32_t>();
    const bool mass = kv.attentionMass != nullptr;
    kernels::DecodeAttention d;
    d.q = q.data;
    d.kv = layer;
    d.rope = rope;
    d.heads = params.heads;
    d.scale = params.scale;
    d.length = length;
    d.splits = kv.splits();
    d.partials = kv.partials();
    d.rangesDone = kv.rangesDone();
    d.out = out.data;
    d.logSumExp = mass ? kv.logSumExp() : nullptr;
    // In a decode step the mass is cleared before the graph runs (finishStep).
    if (mass && !graph_.recording()) {
        float* target = kv.mass();
        submit([=](cudaStream_t s) {
            return launched(cudaMemsetAsync(target, 0, size_t(end) * sizeof(float), s),
                            "clearing the attention mass");
        });
    }
    submit([=](cudaStream_t s) {
        return launched(kernels::flashDecode(d, s), "the decode attention kernel");
    });
    if (!mass) return;
    kernels::AttentionMass m;
    m.q = q.data;
    m.kv = layer;
    m.rope = rope;
    m.heads = params.heads;
    m.scale = params.scale;
    m.length = length;
    m.logSumExp = kv.logSumExp();
    m.mass = kv.mass();
    submit([=](cudaStream_t s) {
        return launched(kernels::addAttentionMass(m, s), "the attention mass kernel");
    });
    if (graph_.recording())
        stepMass_ = {&kv, kv.attentionMass, end};
    else
        fail(addMassToHost(kv, *kv.attentionMass, end));
}

// Query rows at positions start.. over keys up to their own: the queries are rotated and scaled
// into 16-bit head-major rows, then the flash prefill kernel runs.
void CudaBackend::prefill(const kernels::KvLayer& layer, const kernels::RopeTables& rope,
                          int64_t start, Act q, const AttentionParams& params, Act out) {
    const int64_t qElements = q.rows * int64_t(params.heads) * params.headDim;
    auto rotated = qHalf_.ensure(uint64_t(qElements) * 2u);
    if (!rotated) return fail(rotated.status());
    void* queries = *rotated;
    kernels::PrefillAttention p;
    p.q = queries;
    p.qHeadStride = q.rows * params.headDim;
    p.kv = layer;
    p.heads = params.heads;
    p.rows = q.rows;
    p.start = start;
    p.out = rows(out);
    const int32_t* positions = positions_.as<int32_t>() + 1;
    const int32_t heads = params.heads, headDim = params.headDim;
    const float qScale = params.scale * 1.4426950408889634f; // log2(e): the kernel uses exp2
    const kernels::PrefillTile tile = prefillTile_;
    submit([=](cudaStream_t s) {
        return launched(kernels::ropeRows(rows(q), heads, headDim, positions, rope, qScale, queries,
                                          p.qHeadStride, layer.type, s),
                        "the query rotation kernel");
    });
    submit([=](cudaStream_t s) {
        return launched(kernels::flashPrefill(p, s, tile), "the prefill attention kernel");
    });
}

// Waits for queued work, then adds the attention mass of positions [0, length) to `mass`.
Status CudaBackend::addMassToHost(const CudaKvCache& cache, std::vector<float>& mass,
                                  int64_t length) {
    const uint64_t bytes = uint64_t(length) * sizeof(float);
    if (hostCopy_.bytes() < bytes) {
        HIP_CUDA_TRY(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
        auto grown = PinnedBuffer::allocate(bytes);
        HIP_TRY(grown);
        hostCopy_ = std::move(*grown);
    }
    HIP_CUDA_TRY(cudaMemcpyAsync(hostCopy_.as<float>(), cache.mass(), bytes, cudaMemcpyDeviceToHost,
                                 stream_),
                 "copying the attention mass");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream_), "computing the attention mass");
    if (mass.size() < size_t(length)) mass.resize(size_t(length));
    const float* add = hostCopy_.as<float>();
    for (int64_t j = 0; j < length; ++j)
        mass[size_t(j)] += add[j];
    return Status::ok();
}

// Runs the recorded decode step as a graph, with the attention mass cleared before it and copied
// back after it.
Status CudaBackend::finishStep() {
    graph_.identify({pool_.generation()});
    quantizedX_ = {}; // a graph that fails to run leaves it unwritten
    const StepMass mass = stepMass_;
    stepMass_ = {};
    if (!error_.isOk()) {
        abandonStep();
        return takeError();
    }
    if (mass.cache)
        HIP_CUDA_TRY(
            cudaMemsetAsync(mass.cache->mass(), 0, size_t(mass.length) * sizeof(float), stream_),
            "clearing the attention mass");
    HIP_TRY(graph_.run(stream_));
    if (mass.cache) HIP_TRY(addMassToHost(*mass.cache, *mass.target, mass.length));
    return Status::ok();
}

void CudaBackend::copyToHost(Act x, float* dst) {
    flushPending();
    if (graph_.recording()) fail(finishStep());
    const uint64_t rowBytes = uint64_t(x.cols) * sizeof(float);
    const uint64_t bytes = rowBytes * uint64_t(x.rows);
    Status status = takeError();
    if (status.isOk() && hostCopy_.bytes() < bytes) {
        status = cudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
        if (status.isOk()) {
            auto grown = PinnedBuffer::allocate(bytes);
            if (grown)
                hostCopy_ = std::move(*grown);
            else
                status = grown.status();
        }
    }
    if (status.isOk())
        status = cudaStatus(cudaMemcpy2DAsync(hostCopy_.as<float>(), rowBytes, x.data,
                                              size_t(x.stride) * sizeof(float), rowBytes,
                                              size_t(x.rows), cudaMemcpyDeviceToHost, stream_),
                            "copying results to the host");
    if (status.isOk())
        status = cudaStatus(cudaStreamSynchronize(stream_), "running the forward pass");
    if (status.isOk()) {
        std::memcpy(dst, hostCopy_.as<float>(), bytes);
        pool_.releaseRetired();
    } else {
        // The caller gets NaNs, and the error comes back from the next attention or takeError.
        std::fill(dst, dst + x.rows * x.cols, std::numeric_limits<float>::quiet_NaN());
        fail(status);
    }
}

// Grows the penalized-id buffers to hold `count` ids. Sampling waits for its kernel, so the
// old ones are idle.
Status CudaBackend::reservePenalizedIds(size_t count) {
    const uint64_t bytes = count * sizeof(int32_t);
    if (bytes <= penalizedIds_.bytes()) return Status::ok();
    auto device = pool_.allocate(bytes, DeviceUse::Workspace, "the repetition penalty's token ids");
    HIP_TRY(device);
    auto host = PinnedBuffer::allocate(bytes);
    HIP_TRY(host);
    pool_.retire(std::move(penalizedIds_));
    penalizedIds_ = std::move(*device);
    hostPenalizedIds_ = std::move(*host);
    return Status::ok();
}

Result<int32_t> CudaBackend::sampleToken(Act logits, std::span<const int32_t> recent,
                                         const SamplerOptions& options, double u) {
    flushPending();
    if (graph_.recording()) fail(finishStep());
    HIP_TRY(takeError());
    const std::span<const int32_t> penalized = runtime::penalizedTokens(recent, options);
    HIP_TRY(reservePenalizedIds(penalized.size()));
    int32_t* ids = penalizedIds_.as<int32_t>();
    if (!penalized.empty()) {
        std::copy(penalized.begin(), penalized.end(), hostPenalizedIds_.as<int32_t>());
        HIP_CUDA_TRY(cudaMemcpyAsync(ids, hostPenalizedIds_.as<int32_t>(), penalized.size_bytes(),
                                     cudaMemcpyHostToDevice, stream_),
                     "uploading the penalized token ids");
    }
    const kernels::SamplingParams params{options.temperature, options.topK, options.topP,
                                         options.minP, options.repetitionPenalty};
    int32_t* device = sampledToken_.as<int32_t>();
    HIP_CUDA_TRY(kernels::sampleToken(logits.data, logits.cols, ids, int32_t(penalized.size()),
                                      params, u, device, stream_),
                 "the sampling kernel");
    int32_t token = 0;
    HIP_CUDA_TRY(cudaMemcpyAsync(&token, device, sizeof token, cudaMemcpyDeviceToHost, stream_),
                 "copying the sampled token");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream_), "sampling the next token");
    pool_.releaseRetired();
    return token;
}

Result<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions& options) {
    auto backend = CudaBackend::create(options);
    HIP_TRY(backend);
    return std::unique_ptr<Backend>(std::move(*backend));
}

} // namespace hip::backend
