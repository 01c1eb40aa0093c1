#pragma once
// The small interface every compute backend implements (CPU reference, CUDA). The model's
// forward pass is written once against it. Activations are fp32 matrices in backend memory;
// weights stay in their file format (quantized) and are read as they are.
//
// The calls a backend may rely on. A forward pass is one call of embed(), then the layers' calls
// (rmsNorm, matmul, attention, addInPlace, swiglu), and ends with copyToHost() or sampleToken():
//  - embed() starts a pass. With one token it starts a decode step: a backend may record every
//    call until the pass ends and run them together (the CUDA backend replays a CUDA graph), so
//    a decode step's calls must not depend on host values that change from step to step except
//    through the token and the positions the backend uploads itself.
//  - matmul() and addInPlace() may be deferred and fused into the calls after them (products of
//    one input batched, an add fused into the next RMSNorm); the results are visible to every
//    later call of the pass.
//  - attention() checks its arguments at once and returns the first error of the pass so far
//    (work that ran asynchronously included); after an error the rest of the pass is dropped.
//  - copyToHost() and sampleToken() end the pass: they run what was recorded and wait for it.
//    A new embed() before either drops an unfinished pass (a cancelled one).
//  - takeError() returns the first error of asynchronous work not yet returned.

#include "hip/attention_config.h"
#include "hip/attention_trace.h"
#include "hip/generation.h"
#include "hip/status.h"
#include "quant/ggml_type.h"
#include "runtime/sampler.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hip::backend {

// A row-major fp32 matrix in backend memory: `rows` tokens by `cols` features.
struct Act {
    float* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    int64_t stride = 0; // floats between consecutive rows

    float* row(int64_t r) const { return data + r * stride; }
    Act rowRange(int64_t first, int64_t count) const { return {row(first), count, cols, stride}; }
};

// A weight tensor as it lies in the model file: `rows` output features of `cols` inputs each.
// 1-D tensors (norms, biases) have rows == 1.
struct WeightView {
    std::string name;
    quant::GgmlType type = quant::GgmlType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    const void* data = nullptr;
};

// A weight resident in the backend.
class Weight {
public:
    virtual ~Weight() = default;
    virtual const WeightView& view() const = 0; // shape and type (data pointer is backend memory)
    virtual uint64_t residentBytes() const = 0;
};

// Backend memory for activations; released with the object.
class Buffer {
public:
    virtual ~Buffer() = default;
    virtual float* data() = 0;
    virtual int64_t floats() const = 0;
};

struct RopeParams {
    int32_t dims = 0; // rotated dimensions per head (n_rot)
    float freqBase = 10000.0f;
    float positionScale = 1.0f;     // linear scaling: positions are multiplied by this
    bool neox = false;              // pairs (i, i + dims/2) instead of (2i, 2i + 1)
    std::vector<float> freqFactors; // Llama 3.1 rope_freqs: each frequency is divided by its factor
    friend bool operator==(const RopeParams&, const RopeParams&) = default;
};

struct AttentionParams {
    int32_t heads = 0;
    int32_t kvHeads = 0;
    int32_t headDim = 0;
    float scale = 1.0f; // softmax scale, 1/sqrt(headDim)
    RopeParams rope;
    const AttentionConfig* config = nullptr; // null: dense
    // Set by the model from Backend::prepareAttention; unset: config's fixed crossover.
    std::optional<DenseCrossover> crossover;

    // Whether `layer` runs dense for queries ending at `end` (a decode step or a prefill pass).
    bool runsDense(int32_t layer, int64_t end, bool decode) const {
        if (!config) return true;
        const DenseCrossover at = crossover ? *crossover : config->fixedCrossover();
        return config->denseAt(layer, end, at.tokens(decode));
    }
};

// Keys and values of every layer, per token position. How keys are kept is the backend's own:
// the CPU keeps them unrotated (HiP rotates them at packed positions), the CUDA backend keeps them
// rotated at their own positions (kernels/kernel_types.h).
class KvCache {
public:
    virtual ~KvCache() = default;
    virtual int64_t tokens() const = 0;        // positions filled
    virtual int64_t capacity() const = 0;      // positions it may hold
    virtual void truncate(int64_t tokens) = 0; // forget positions >= tokens
    virtual uint64_t residentBytes() const = 0;
    // Per layer, the key ranges HiP selected for the last decoded token (empty: dense).
    virtual std::vector<std::vector<KeyRange>> lastSelections() const = 0;

    // When set, every single-token attention adds its probabilities (averaged over heads) to
    // (*attentionMass)[key position]; the vector must cover every position. Sessions set it
    // while generating, for the attention trace.
    std::vector<float>* attentionMass = nullptr;
    // When set, every attention call adds the exact probabilities of each of its query rows
    // (the dense softmax over every key the row sees, whatever the attention computes), averaged
    // over heads, to (*exactMass)[key position], growing the vector to cover them. Sessions set
    // it while the question's tokens run, for the trace's question mass.
    std::vector<float>* exactMass = nullptr;
};

// Where a backend keeps its memory, for the engine's memory report.
struct BackendMemory {
    bool kvOnDevice = false;     // KV caches live in the compute device's memory (else the host's)
    uint64_t workspaceBytes = 0; // the backend's own scratch, beyond allocate()d activations
    uint64_t freeBytes = 0;      // the device's free and total memory now; 0 when it is the host
    uint64_t totalBytes = 0;
};

struct KvCacheShape {
    int32_t layers = 0;
    int32_t kvHeads = 0;
    int32_t headDim = 0;
    int64_t capacity = 0;
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual std::string name() const = 0;
    virtual Result<std::unique_ptr<Weight>> uploadWeight(const WeightView& weight) = 0;
    virtual Result<std::unique_ptr<Buffer>> allocate(int64_t floats) = 0;
    virtual Result<std::unique_ptr<KvCache>> createKvCache(const KvCacheShape& shape) = 0;
    virtual uint64_t kvBytesPerToken(const KvCacheShape& shape) const = 0;

    // out[t] = table row tokens[t] (dequantized).
    virtual void embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) = 0;
    // out = x / rms(x) * gamma, per row.
    virtual void rmsNorm(Act x, const Weight& gamma, float eps, Act out) = 0;
    // out = x * W^T (+ bias): x is rows x W.cols, out is rows x W.rows.
    virtual void matmul(Act x, const Weight& w, const Weight* bias, Act out) = 0;
    // x += y.
    virtual void addInPlace(Act x, Act y) = 0;
    // out = silu(gate) * up.
    virtual void swiglu(Act gate, Act up, Act out) = 0;
    // Stores k and v (k as the projection gives it, before rotation) at positions
    // [start, start + q.rows) of `layer`, then writes the causal attention of q (likewise before
    // rotation) over positions [0, start + q.rows) to out, as params.config says (dense when null).
    virtual Status attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                             const AttentionParams& params, Act out) = 0;
    // Copies an activation matrix to host memory (rows * cols floats, packed).
    virtual void copyToHost(Act x, float* dst) = 0;
    // The next token from the logits in row 0 of `logits`, as runtime::pickToken picks it with
    // `u` (the repetition penalty is applied to the row in place). This default copies the row
    // to the host and picks there; a GPU backend picks on the device, so only the token comes
    // back.
    virtual Result<int32_t> sampleToken(Act logits, std::span<const int32_t> recent,
                                        const SamplerOptions& options, double u) {
        std::vector<float> host(size_t(logits.cols));
        copyToHost(logits.rowRange(0, 1), host.data());
        HIP_TRY(takeError());
        return runtime::pickToken(host, recent, options, u);
    }

    virtual BackendMemory memory() const { return {}; }
    // Whether attention of this shape (heads, head dim, rotary dims) and configuration (dense,
    // HiP) can run here, with the reason when not: the one place that decides. The CPU backend
    // runs everything.
    virtual Status supportsAttention(const AttentionParams&, const AttentionConfig&) const {
        return Status::ok();
    }
    // Readies attention of this shape and configuration with prefill passes of `batchRows`
    // queries, and says from which lengths HiP's layers run sparse: the configuration's crossover
    // when it fixes one, else one this backend measured where dense may run, for contexts of up
    // to `contextTokens` (the CUDA backend times dense and HiP; the CPU backend measures none and
    // uses the default). Not during a pass.
    virtual Result<DenseCrossover> prepareAttention(const AttentionParams&,
                                                    const AttentionConfig& config,
                                                    int64_t /*contextTokens*/,
                                                    int32_t /*batchRows*/) {
        return config.fixedCrossover();
    }

    // The first error since the last call in work that ran asynchronously (GPU launches and
    // graphs). The CPU backend computes synchronously and has none.
    virtual Status takeError() { return Status::ok(); }
};

} // namespace hip::backend
