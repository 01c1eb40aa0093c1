#include "model/transformer.h"

#include "gguf/gguf_file.h"

#include <algorithm>
#include <sstream>

namespace hip::model {
namespace {

// Rows of logits computed per product when every position's logits are wanted: a GEMM-sized
// batch without a vocab-by-prefill-chunk buffer.
constexpr int64_t kLogitRowsPerPass = 64;

std::string shapeText(const std::vector<int64_t>& ne) {
    std::ostringstream s;
    s << '[';
    for (size_t i = 0; i < ne.size(); ++i)
        s << (i ? ", " : "") << ne[i];
    s << ']';
    return s.str();
}

// Finds a tensor and checks its shape (ne order, as stored) and, for vectors, that it is F32.
class WeightLoader {
public:
    WeightLoader(const gguf::GgufFile& file, backend::Backend& backend)
        : file_(file), backend_(backend) {}

    Result<std::unique_ptr<backend::Weight>>
    load(const std::string& name, const std::vector<int64_t>& expected, bool optional = false) {
        const gguf::TensorInfo* info = file_.findTensor(name);
        if (!info) {
            if (optional) return std::unique_ptr<backend::Weight>();
            return makeError(ErrorCode::InvalidFile, "tensor '" + name + "' is missing");
        }
        if (info->ne != expected)
            return makeError(ErrorCode::InvalidFile, "tensor '" + name + "' has shape " +
                                                         shapeText(info->ne) + ", expected " +
                                                         shapeText(expected));
        if (expected.size() == 1 && info->type != quant::GgmlType::F32)
            return makeError(ErrorCode::Unsupported, "tensor '" + name + "' is " +
                                                         std::string(quant::typeName(info->type)) +
                                                         ", expected F32");
        backend::WeightView view;
        view.name = name;
        view.type = info->type;
        view.cols = info->ne[0];
        view.rows = info->ne.size() > 1 ? info->ne[1] : 1;
        view.data = info->data;
        return backend_.uploadWeight(view);
    }

private:
    const gguf::GgufFile& file_;
    backend::Backend& backend_;
};

} // namespace

Transformer::Transformer(const ModelConfig& config, backend::Backend& backend, int32_t maxBatch,
                         int64_t contextTokens)
    : config_(config), backend_(backend), maxBatch_(maxBatch), contextTokens_(contextTokens) {}

Result<std::unique_ptr<Transformer>>
Transformer::create(const gguf::GgufFile& file, const ModelConfig& config,
                    backend::Backend& backend, int32_t maxBatch, int64_t contextTokens,
                    const AttentionConfig& attention, const ProgressCallback& progress,
                    const CancelToken& cancel) {
    // Before any weight is uploaded: a backend without kernels for this attention shape fails
    // the load at once (and the engine may fall back to the CPU).
    HIP_TRY(backend.supportsAttention(config.attentionParams(), attention));
    std::unique_ptr<Transformer> model(new Transformer(config, backend, maxBatch, contextTokens));
    WeightLoader loader(file, backend);
    const int64_t E = config.embeddingLength, V = config.vocabSize, F = config.feedForwardLength;
    const int64_t qDim = int64_t(config.heads) * config.headDim;
    const int64_t kvDim = int64_t(config.kvHeads) * config.headDim;

#define HIP_LOAD(target, ...)                                                                      \
    do {                                                                                           \
        auto loaded = loader.load(__VA_ARGS__);                                                    \
        if (!loaded) return loaded.status();                                                       \
        target = std::move(*loaded);                                                               \
    } while (0)

    HIP_LOAD(model->tokenEmbedding_, "token_embd.weight", {E, V});
    HIP_LOAD(model->outputNorm_, "output_norm.weight", {E});
    HIP_LOAD(model->output_, "output.weight", {E, V}, true);

    if (const gguf::TensorInfo* factors = file.findTensor("rope_freqs.weight")) {
        if (factors->ne != std::vector<int64_t>{config.rope.dims / 2} ||
            factors->type != quant::GgmlType::F32)
            return makeError(ErrorCode::InvalidFile,
                             "tensor 'rope_freqs.weight' has shape " + shapeText(factors->ne) +
                                 ", expected F32 [" + std::to_string(config.rope.dims / 2) + "]");
        const auto* f = reinterpret_cast<const float*>(factors->data);
        model->config_.rope.freqFactors.assign(f, f + config.rope.dims / 2);
        model->config_.ropeScalingDescription = "llama3 (rope_freqs)";
    }

    model->layers_.resize(size_t(config.layers));
    for (int32_t l = 0; l < config.layers; ++l) {
        if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "loading was cancelled");
        if (progress) progress({"loading layers", l, config.layers});
        Layer& layer = model->layers_[size_t(l)];
        const std::string b = "blk." + std::to_string(l) + ".";
        HIP_LOAD(layer.attnNorm, b + "attn_norm.weight", {E});
        HIP_LOAD(layer.wq, b + "attn_q.weight", {E, qDim});
        HIP_LOAD(layer.wk, b + "attn_k.weight", {E, kvDim});
        HIP_LOAD(layer.wv, b + "attn_v.weight", {E, kvDim});
        HIP_LOAD(layer.wo, b + "attn_output.weight", {qDim, E});
        // Qwen2 has q/k/v biases; other Llama-family files may carry them too.
        const bool biasRequired = config.architecture == Architecture::Qwen2;
        HIP_LOAD(layer.bq, b + "attn_q.bias", {qDim}, !biasRequired);
        HIP_LOAD(layer.bk, b + "attn_k.bias", {kvDim}, !biasRequired);
        HIP_LOAD(layer.bv, b + "attn_v.bias", {kvDim}, !biasRequired);
        HIP_LOAD(layer.ffnNorm, b + "ffn_norm.weight", {E});
        HIP_LOAD(layer.gate, b + "ffn_gate.weight", {E, F});
        HIP_LOAD(layer.up, b + "ffn_up.weight", {E, F});
        HIP_LOAD(layer.down, b + "ffn_down.weight", {F, E});
    }
#undef HIP_LOAD
    if (progress) progress({"loading layers", config.layers, config.layers});

    model->attention_ = model->config_.attentionParams();
    model->attention_.config = &model->attentionConfig_;
    HIP_TRY(model->allocateScratch());
    if (progress) progress({"timing attention", 0, 1});
    HIP_TRY(model->useAttention(attention));
    return model;
}

Status Transformer::allocateScratch() {
    const int64_t E = config_.embeddingLength, F = config_.feedForwardLength;
    const int64_t qDim = int64_t(config_.heads) * config_.headDim;
    const int64_t kvDim = int64_t(config_.kvHeads) * config_.headDim;
    const int64_t B = maxBatch_;
    const int64_t logitRows = std::min<int64_t>(B, kLogitRowsPerPass);
    struct Slot {
        backend::Act* act;
        int64_t rows, cols;
    };
    const Slot slots[] = {{&hidden_, B, E},
                          {&normed_, B, E},
                          {&q_, B, qDim},
                          {&k_, B, kvDim},
                          {&v_, B, kvDim},
                          {&attnOut_, B, qDim},
                          {&projected_, B, E},
                          {&gate_, B, F},
                          {&up_, B, F},
                          {&ffnOut_, B, E},
                          {&logits_, logitRows, config_.vocabSize}};
    int64_t total = 0;
    for (const Slot& s : slots)
        total += s.rows * s.cols;
    auto buffer = backend_.allocate(total);
    HIP_TRY(buffer);
    scratch_ = std::move(*buffer);
    float* next = scratch_->data();
    for (const Slot& s : slots) {
        *s.act = {next, s.rows, s.cols, s.cols};
        next += s.rows * s.cols;
    }
    return Status::ok();
}

Status Transformer::setAttention(const AttentionConfig& attention) {
    HIP_TRY(backend_.supportsAttention(config_.attentionParams(), attention));
    return useAttention(attention);
}

Status Transformer::useAttention(const AttentionConfig& attention) {
    // Dense attention past the trained context meets positions the model never saw (HiP's packed
    // positions keep distances within it), so it never runs dense there for speed.
    const int64_t denseContext = config_.contextLength > 0
                                     ? std::min<int64_t>(contextTokens_, config_.contextLength)
                                     : contextTokens_;
    auto crossover =
        backend_.prepareAttention(config_.attentionParams(), attention, denseContext, maxBatch_);
    HIP_TRY(crossover);
    attentionConfig_ = attention;
    attention_.crossover = *crossover;
    return Status::ok();
}

uint64_t Transformer::weightBytes() const {
    uint64_t total = tokenEmbedding_->residentBytes() + outputNorm_->residentBytes() +
                     (output_ ? output_->residentBytes() : 0);
    for (const Layer& l : layers_)
        for (const auto* w : {&l.attnNorm, &l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv,
                              &l.ffnNorm, &l.gate, &l.up, &l.down})
            if (*w) total += (*w)->residentBytes();
    return total;
}

uint64_t Transformer::scratchBytes() const {
    return scratch_ ? uint64_t(scratch_->floats()) * sizeof(float) : 0;
}

Status Transformer::runLayers(const std::vector<int32_t>& tokens, int64_t start,
                              backend::KvCache& cache, const CancelToken& cancel) {
    const int64_t n = int64_t(tokens.size());
    if (n == 0 || n > maxBatch_)
        return makeError(ErrorCode::InvalidArgument, "a forward pass takes 1.." +
                                                         std::to_string(maxBatch_) +
                                                         " tokens, got " + std::to_string(n));
    if (start + n > cache.capacity())
        return makeError(ErrorCode::InvalidArgument,
                         "the context is full: " + std::to_string(start + n) +
                             " tokens needed, the KV cache holds " +
                             std::to_string(cache.capacity()));
    for (int32_t t : tokens)
        if (t < 0 || t >= config_.vocabSize)
            return makeError(ErrorCode::InvalidArgument,
                             "token id " + std::to_string(t) + " is outside the vocabulary");

    backend::Backend& b = backend_;
    const backend::Act hidden = hidden_.rowRange(0, n), normed = normed_.rowRange(0, n);
    const backend::Act q = q_.rowRange(0, n), k = k_.rowRange(0, n), v = v_.rowRange(0, n);
    const backend::Act attnOut = attnOut_.rowRange(0, n), projected = projected_.rowRange(0, n);
    const backend::Act gate = gate_.rowRange(0, n), up = up_.rowRange(0, n);
    const backend::Act ffnOut = ffnOut_.rowRange(0, n);

    b.embed(*tokenEmbedding_, tokens, hidden);
    for (int32_t l = 0; l < config_.layers; ++l) {
        if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "cancelled");
        const Layer& layer = layers_[size_t(l)];
        b.rmsNorm(hidden, *layer.attnNorm, config_.rmsEps, normed);
        b.matmul(normed, *layer.wq, layer.bq.get(), q);
        b.matmul(normed, *layer.wk, layer.bk.get(), k);
        b.matmul(normed, *layer.wv, layer.bv.get(), v);
        if (observer_) observer_(l, start, q, k);
        HIP_TRY(b.attention(cache, l, start, q, k, v, attention_, attnOut));
        b.matmul(attnOut, *layer.wo, nullptr, projected);
        b.addInPlace(hidden, projected);

        b.rmsNorm(hidden, *layer.ffnNorm, config_.rmsEps, normed);
        b.matmul(normed, *layer.gate, nullptr, gate);
        b.matmul(normed, *layer.up, nullptr, up);
        b.swiglu(gate, up, gate);
        b.matmul(gate, *layer.down, nullptr, ffnOut);
        b.addInPlace(hidden, ffnOut);
    }
    return Status::ok();
}

backend::Act Transformer::headLogits(int64_t row, int64_t rows) {
    const backend::Weight& head = output_ ? *output_ : *tokenEmbedding_;
    const backend::Act in = hidden_.rowRange(row, rows), out = normed_.rowRange(row, rows);
    backend_.rmsNorm(in, *outputNorm_, config_.rmsEps, out);
    const backend::Act result = logits_.rowRange(0, rows);
    backend_.matmul(out, head, nullptr, result);
    return result;
}

Status Transformer::forward(const std::vector<int32_t>& tokens, int64_t start,
                            backend::KvCache& cache, bool allLogits, std::vector<float>& logits,
                            const CancelToken& cancel) {
    HIP_TRY(runLayers(tokens, start, cache, cancel));
    const int64_t n = int64_t(tokens.size());
    const int64_t first = allLogits ? 0 : n - 1;
    const int64_t V = config_.vocabSize;
    logits.resize(size_t((n - first) * V));
    for (int64_t row = first; row < n; row += logits_.rows) {
        const int64_t rows = std::min(logits_.rows, n - row);
        backend_.copyToHost(headLogits(row, rows), logits.data() + (row - first) * V);
    }
    // Asynchronous backends report a failed launch here rather than at the next pass.
    return backend_.takeError();
}

Result<backend::Act> Transformer::forwardLast(const std::vector<int32_t>& tokens, int64_t start,
                                              backend::KvCache& cache, const CancelToken& cancel) {
    HIP_TRY(runLayers(tokens, start, cache, cancel));
    const backend::Act logits = headLogits(int64_t(tokens.size()) - 1, 1);
    HIP_TRY(backend_.takeError());
    return logits;
}

} // namespace hip::model
