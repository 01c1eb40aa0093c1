#include "hip/engine.h"

#include "backend/cpu/cpu_backend.h"
#include "hip/session.h"
#include "kv/paged_kv_store.h"
#include "runtime/engine_state.h"
#include "runtime/host_memory.h"

#include <algorithm>
#include <cstdlib>

namespace hip {
namespace {

// Tokens per forward call during prefill: large enough for efficient matrix products, small
// enough that cancel and progress react quickly.
constexpr int32_t kPrefillChunk = 256;

ModelInfo describe(const gguf::GgufFile& file, const model::ModelConfig& config,
                   const std::filesystem::path& path) {
    ModelInfo info;
    info.path = path.string();
    info.name = file.getString("general.name", path.filename().string()).value();
    info.architecture = config.architectureName;
    info.layers = config.layers;
    info.embeddingLength = config.embeddingLength;
    info.feedForwardLength = config.feedForwardLength;
    info.heads = config.heads;
    info.kvHeads = config.kvHeads;
    info.headDim = config.headDim;
    info.vocabSize = config.vocabSize;
    info.contextLength = config.contextLength;
    info.ropeFreqBase = config.rope.freqBase;
    info.ropeScaling = file.findTensor("rope_freqs.weight") ? "llama3 (rope_freqs)"
                                                            : config.ropeScalingDescription;
    info.tiedEmbeddings = file.findTensor("output.weight") == nullptr;
    info.fileBytes = file.fileSize();
    info.kvBytesPerToken =
        kv::PagedKvStore::bytesPerToken(config.layers, config.kvHeads, config.headDim);
    const std::string tokenizerModel = file.getString("tokenizer.ggml.model", "?").value();
    const std::string pre = file.getString("tokenizer.ggml.pre", "").value();
    info.tokenizer = tokenizerModel == "llama"
                         ? "SentencePiece"
                         : "byte-level BPE" + (pre.empty() ? "" : " (" + pre + ")");
    info.chatFormat =
        tok::ChatTemplate::detect(file.getString("tokenizer.chat_template", "").value())
            .formatName();
    for (const gguf::TensorInfo& t : file.tensors()) {
        TensorTypeUsage& usage = info.tensorTypes[std::string(quant::typeName(t.type))];
        usage.tensors += 1;
        usage.elements += t.elementCount();
        usage.bytes += t.bytes;
        info.parameters += t.elementCount();
    }
    return info;
}

int64_t contextFor(const LoadOptions& options, const model::ModelConfig& config) {
    return options.contextTokens > 0 ? options.contextTokens : config.contextLength;
}

uint64_t scratchEstimate(const model::ModelConfig& c) {
    const uint64_t perToken = uint64_t(c.embeddingLength) * 5 + uint64_t(c.heads) * c.headDim * 2 +
                              uint64_t(c.kvHeads) * c.headDim * 2 +
                              uint64_t(c.feedForwardLength) * 2;
    return (perToken * kPrefillChunk + uint64_t(std::min(kPrefillChunk, 64)) * c.vocabSize) *
           sizeof(float);
}

MemoryEstimate estimateFor(const gguf::GgufFile& file, const model::ModelConfig& config,
                           const LoadOptions& options) {
    MemoryEstimate estimate;
    for (const gguf::TensorInfo& t : file.tensors())
        estimate.weightBytes += t.bytes;
    estimate.contextTokens = contextFor(options, config);
    estimate.kvBytes =
        uint64_t(estimate.contextTokens) *
        kv::PagedKvStore::bytesPerToken(config.layers, config.kvHeads, config.headDim);
    estimate.scratchBytes = scratchEstimate(config);
    estimate.availableBytes = runtime::availableHostMemory();
    return estimate;
}

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

} // namespace

std::filesystem::path defaultModelPath() {
    const char* fileName = "SmolLM2-135M-Instruct.Q4_1.gguf";
    if (const char* env = std::getenv("HIPREADER_MODEL"); env && *env) return env;
    for (const std::filesystem::path& dir : {std::filesystem::path(HIPREADER_SOURCE_MODELS_DIR),
                                             std::filesystem::path(HIPREADER_INSTALLED_MODELS_DIR)})
        if (std::filesystem::exists(dir / fileName)) return dir / fileName;
    return std::filesystem::path(HIPREADER_SOURCE_MODELS_DIR) / fileName;
}

std::string_view stopReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::EndOfTurn:
        return "end of turn";
    case StopReason::MaxTokens:
        return "token limit";
    case StopReason::ContextFull:
        return "context full";
    case StopReason::Cancelled:
        return "cancelled";
    case StopReason::SinkStopped:
        return "stopped";
    }
    return "?";
}

Result<ModelInfo> inspectModel(const std::filesystem::path& path) {
    auto file = gguf::GgufFile::open(path);
    HIP_TRY(file);
    auto config = model::readModelConfig(*file);
    if (!config) return config.status().withContext(path.filename().string());
    return describe(*file, *config, path);
}

Result<MemoryEstimate> Engine::estimateMemory(const LoadOptions& options) {
    auto file = gguf::GgufFile::open(options.model);
    HIP_TRY(file);
    auto config = model::readModelConfig(*file);
    if (!config) return config.status().withContext(options.model.filename().string());
    return estimateFor(*file, *config, options);
}

Result<std::unique_ptr<Engine>> Engine::load(const LoadOptions& options,
                                             const ProgressCallback& progress,
                                             const CancelToken& cancel) {
    if (options.device != Device::Cpu)
        return makeError(ErrorCode::Unsupported,
                         "this build has no GPU backend; load the model on the CPU");
    HIP_TRY(options.attention.validate());
    if (progress) progress({"reading model file", 0, 1});
    auto file = gguf::GgufFile::open(options.model);
    HIP_TRY(file);
    const std::string name = options.model.filename().string();

    auto state = std::make_unique<EngineState>(std::move(*file));
    state->options = options;
    auto config = model::readModelConfig(state->file);
    if (!config) return config.status().withContext(name);
    state->config = *config;
    state->contextTokens = contextFor(options, *config);

    const MemoryEstimate estimate = estimateFor(state->file, *config, options);
    if (!estimate.fits() && !options.allowOverMemory)
        return makeError(ErrorCode::OutOfMemory,
                         name + " needs about " + mib(estimate.totalBytes()) + " (weights " +
                             mib(estimate.weightBytes) + ", KV cache for " +
                             std::to_string(estimate.contextTokens) + " tokens " +
                             mib(estimate.kvBytes) + ", scratch " + mib(estimate.scratchBytes) +
                             ") but only " + mib(estimate.availableBytes) +
                             " of memory is available; choose a shorter context or a smaller "
                             "model, or override the check");
    if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "loading was cancelled");

    if (progress) progress({"reading tokenizer", 0, 1});
    auto spec = tok::tokenizerSpecFromGguf(state->file);
    if (!spec) return spec.status().withContext(name);
    auto tokenizer = tok::Tokenizer::create(*spec);
    if (!tokenizer) return tokenizer.status().withContext(name);
    state->tokenizer = std::move(*tokenizer);
    state->chatTemplate =
        tok::ChatTemplate::detect(state->file.getString("tokenizer.chat_template", "").value());

    state->backend = backend::createCpuBackend(options.threads);
    auto transformer = model::Transformer::create(
        state->file, *config, *state->backend, kPrefillChunk, options.attention, progress, cancel);
    if (!transformer) return transformer.status().withContext(name);
    state->transformer = std::move(*transformer);
    state->info = describe(state->file, state->transformer->config(), options.model);
    return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

Engine::Engine(std::unique_ptr<EngineState> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

const ModelInfo& Engine::info() const {
    return state_->info;
}

MemoryReport Engine::memory() const {
    MemoryReport report;
    report.device = state_->backend->name();
    report.weightBytes = state_->transformer->weightBytes();
    report.scratchBytes = state_->transformer->scratchBytes();
    {
        std::lock_guard lock(state_->sessionsMutex);
        for (const backend::KvCache* cache : state_->liveCaches)
            report.kvHostBytes += cache->residentBytes();
    }
    report.deviceFreeBytes = runtime::availableHostMemory();
    report.deviceTotalBytes = runtime::totalHostMemory();
    return report;
}

const AttentionConfig& Engine::attention() const {
    return state_->transformer->attention();
}

Status Engine::setAttention(const AttentionConfig& attention) {
    HIP_TRY(attention.validate());
    std::lock_guard lock(state_->computeMutex);
    state_->transformer->setAttention(attention);
    return Status::ok();
}

int64_t Engine::countTokens(const std::string& text) const {
    return int64_t(state_->tokenizer->encode(text, {.addSpecial = false}).ids.size());
}

int64_t Engine::contextTokens() const { return state_->contextTokens; }

std::unique_ptr<Session> Engine::newSession() {
    return std::make_unique<Session>(*state_);
}

} // namespace hip
