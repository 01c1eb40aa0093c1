#pragma once
// The CUDA backend: weights stay in their file format in GPU memory (decode reads them with
// quantized matrix-vector kernels; prefill dequantizes tiles to fp16/bf16 for cuBLAS), activations
// are fp32, the KV cache is fp16 or bf16 with keys unrotated, attention is exact (flash-style
// prefill, split-KV decode). Decode steps run as CUDA graphs (see decode_graph.h).
//
// Work is queued on one stream; the interface's void calls cannot report errors, so the first
// failure is kept, later work is skipped, and the error comes back from the next attention() or
// takeError(). HiP attention is not implemented here yet: attention() refuses it.

#include "backend/backend.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_kv_cache.h"
#include "backend/cuda/decode_graph.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/rope_tables.h"
#include "kernels/flash_prefill.h"
#include "kernels/kernel_types.h"
#include "kernels/matvec.h"

#include <cublas_v2.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace hip::backend {

struct CudaBackendOptions {
    int device = -1; // -1: defaultCudaDevice()
    kernels::Half16 kvType = kernels::Half16::F16;
    // The most bytes of GPU memory the backend may allocate (weights, KV cache, scratch; not the
    // CUDA context and cuBLAS's own memory); 0: no limit beyond the device.
    uint64_t memoryBudget = 0;
};

class CudaBackend final : public Backend {
public:
    static Result<std::unique_ptr<CudaBackend>> create(const CudaBackendOptions& options = {});
    ~CudaBackend() override;

    // KV bytes per token as this backend stores them (16-bit keys and values).
    static uint64_t kvBytesPerToken(int32_t layers, int32_t kvHeads, int32_t headDim) {
        return uint64_t(layers) * 2u * uint64_t(kvHeads) * uint64_t(headDim) * 2u;
    }

    std::string name() const override;
    Result<std::unique_ptr<Weight>> uploadWeight(const WeightView& weight) override;
    Result<std::unique_ptr<Buffer>> allocate(int64_t floats) override;
    Result<std::unique_ptr<KvCache>> createKvCache(const KvCacheShape& shape) override;
    uint64_t kvBytesPerToken(const KvCacheShape& shape) const override {
        return kvBytesPerToken(shape.layers, shape.kvHeads, shape.headDim);
    }
    void embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) override;
    void rmsNorm(Act x, const Weight& gamma, float eps, Act out) override;
    void matmul(Act x, const Weight& w, const Weight* bias, Act out) override;
    void addInPlace(Act x, Act y) override;
    void swiglu(Act gate, Act up, Act out) override;
    Status attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                     const AttentionParams& params, Act out) override;
    void copyToHost(Act x, float* dst) override;
    // Samples on the device (kernels/sampling.h): only the token comes back.
    Result<int32_t> sampleToken(Act logits, std::span<const int32_t> recent,
                                const SamplerOptions& options, double u) override;
    BackendMemory memory() const override;
    Status takeError() override;
    Status supportsAttention(const AttentionParams& params) const override;

    const CudaDeviceInfo& device() const { return device_; }
    cudaStream_t stream() const { return stream_; }
    uint64_t graphReplays() const { return graph_.replays(); }
    // The prefill attention tile shape (benchmarks compare them).
    void setPrefillTile(kernels::PrefillTile tile) { prefillTile_ = tile; }

private:
    explicit CudaBackend(const CudaDeviceInfo& device, const CudaBackendOptions& options)
        : device_(device), options_(options), pool_(options.memoryBudget),
          xHalf_(pool_, "matrix-product operands"), weightHalf_(pool_, "dequantized weight tiles"),
          qHalf_(pool_, "rotated queries"), xQuantized_(pool_, "quantized activations") {}
    Status initialize();

    // Runs `launch` on the stream now, or records it while a decode step is being recorded. After
    // a failure nothing more runs until the error is taken. submit also forgets the activation
    // held quantized (the launch may write it); enqueue, for the matrix-vector products and the
    // quantization itself, keeps it.
    void submit(DecodeGraph::Launch launch);
    void enqueue(DecodeGraph::Launch launch);
    void fail(const Status& status) {
        if (error_.isOk() && !status.isOk()) error_ = status;
    }
    // Adds an interface call and its arguments to the decode step's identity.
    void identify(std::initializer_list<uint64_t> words) {
        if (graph_.recording()) graph_.identify(words);
    }
    void flushPendingAdd();
    // Launches the pending matrix-vector products (one launch per row of x).
    void flushMatvecs();
    // Runs the deferred work (products, then an add) before an interface call's own work.
    void flushPending() {
        flushMatvecs();
        flushPendingAdd();
    }
    bool joinsMatvecs(Act x, const WeightView& w, Act out) const;
    void gemm(Act x, const WeightView& w, Act out);
    Result<const uint8_t*> quantizedInput(Act x);
    Status reserveInputs(int64_t rowCount);
    Status uploadTokens(const std::vector<int32_t>& tokens);
    Status uploadPositions(int64_t start, int64_t rows);
    Result<const DeviceRopeTables*> ropeTables(const RopeParams& params, int64_t positions);
    Status checkAttention(const CudaKvCache& cache, int64_t end, int32_t layer, Act q,
                          const AttentionParams& params) const;
    void decode(CudaKvCache& kv, const kernels::KvLayer& layer, const kernels::RopeTables& rope,
                Act q, const AttentionParams& params, Act out, int64_t end);
    void prefill(const kernels::KvLayer& layer, const kernels::RopeTables& rope, int64_t start,
                 Act q, const AttentionParams& params, Act out);
    Status finishStep();
    void abandonStep();
    Status addMassToHost(const CudaKvCache& cache, std::vector<float>& mass, int64_t length);
    Status reservePenalizedIds(size_t count);

    CudaDeviceInfo device_;
    CudaBackendOptions options_;
    DevicePool pool_;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    Status error_;
    DecodeGraph graph_;
    kernels::PrefillTile prefillTile_ = kernels::PrefillTile::WarpRows32;

    // Step inputs the kernels read from device memory: token ids, and [length, positions...].
    // Uploaded from pinned mirrors, which a captured graph reads again at every replay.
    DeviceAllocation tokens_, positions_;
    PinnedBuffer hostTokens_, hostPositions_;
    int64_t inputRows_ = 0; // rows the four buffers hold
    cudaEvent_t uploaded_ = nullptr;
    int64_t uploadedStart_ = -1, uploadedRows_ = -1;
    bool positionsInStep_ = false;

    // Where the decode step being recorded adds its attention mass.
    struct StepMass {
        const CudaKvCache* cache = nullptr;
        std::vector<float>* target = nullptr;
        int64_t length = 0;
    } stepMass_;

    // An addInPlace waiting to be fused into the RMSNorm that usually follows it.
    bool pendingAdd_ = false;
    Act pendingX_, pendingY_;

    // Matrix-vector products of one x and weight format waiting to run as one launch (q, k and
    // v read the same normed x, as do gate and up). No output overlaps another, nor x unless
    // the product is alone (matmul launches it at once).
    struct PendingMatvecs {
        Act x;
        quant::GgmlType type = quant::GgmlType::F32;
        int64_t cols = 0;
        const uint8_t* quantized = nullptr; // x quantized (block formats)
        int count = 0;
        // Weights and biases; each y is set per row of x from outs at the launch.
        kernels::MatvecMatrix matrices[kernels::kMatvecMaxMatrices];
        Act outs[kernels::kMatvecMaxMatrices];
    } matvecs_;

    Workspace xHalf_, weightHalf_, qHalf_;
    // The matrix-vector products' quantized x, and the activation it holds (none: data null).
    Workspace xQuantized_;
    Act quantizedX_;
    std::vector<std::unique_ptr<DeviceRopeTables>> ropes_;
    int64_t maxCapacity_ = 0;
    PinnedBuffer hostCopy_; // staging for copyToHost and the attention mass
    // Sampling: the token it picks, and the ids the repetition penalty applies to (uploaded from
    // the pinned mirror); both sized at creation for the usual windows.
    DeviceAllocation sampledToken_, penalizedIds_;
    PinnedBuffer hostPenalizedIds_;
};

// Creates the backend on the device options.device names (or the default one).
Result<std::unique_ptr<Backend>> createCudaBackend(const CudaBackendOptions& options = {});

} // namespace hip::backend
