#include "hip/engine.h"

#include "backend/cpu/cpu_backend.h"
#include "hip/session.h"
#include "kv/paged_kv_store.h"
#include "runtime/engine_state.h"
#include "runtime/host_memory.h"

#ifdef HIPREADER_HAS_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

#include <algorithm>
#include <cstdlib>

namespace hip {
namespace {

// Tokens per forward call during prefill: large enough for efficient matrix products, small
// enough that cancel and progress react quickly. A GPU needs larger products to be efficient.
constexpr int32_t kPrefillChunk = 256;
constexpr int32_t kCudaPrefillChunk = 1024;

int32_t prefillChunk(Device device) {
    return device == Device::Cuda ? kCudaPrefillChunk : kPrefillChunk;
}

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

uint64_t scratchEstimate(const model::ModelConfig& c, Device device) {
    const uint64_t chunk = uint64_t(prefillChunk(device));
    const uint64_t perToken = uint64_t(c.embeddingLength) * 5 + uint64_t(c.heads) * c.headDim * 2 +
                              uint64_t(c.kvHeads) * c.headDim * 2 +
                              uint64_t(c.feedForwardLength) * 2;
    uint64_t bytes =
        (perToken * chunk + std::min<uint64_t>(chunk, 64) * uint64_t(c.vocabSize)) * sizeof(float);
    // The CUDA backend's workspaces: 16-bit operands of the largest product, rotated queries and
    // a dequantized weight tile (at most 256 MiB).
    if (device == Device::Cuda)
        bytes += chunk * uint64_t(std::max(c.embeddingLength, c.feedForwardLength)) * 2 +
                 chunk * uint64_t(c.heads) * c.headDim * 2 + (256ull << 20);
    return bytes;
}

uint64_t kvBytesPerToken(const model::ModelConfig& c, Device device) {
#ifdef HIPREADER_HAS_CUDA
    if (device == Device::Cuda)
        return backend::CudaKvCache::bytesPerToken(c.layers, c.kvHeads, c.headDim);
#endif
    (void)device;
    return kv::PagedKvStore::bytesPerToken(c.layers, c.kvHeads, c.headDim);
}

// Free memory of the device a load would use (the GPU's, from the driver).
uint64_t availableBytes(Device device) {
#ifdef HIPREADER_HAS_CUDA
    if (device == Device::Cuda) {
        auto gpu = backend::queryCudaDevice(backend::defaultCudaDevice());
        return gpu ? gpu->freeBytes : 0;
    }
#endif
    (void)device;
    return runtime::availableHostMemory();
}

MemoryEstimate estimateFor(const gguf::GgufFile& file, const model::ModelConfig& config,
                           const LoadOptions& options) {
    MemoryEstimate estimate;
    estimate.device = options.device;
    for (const gguf::TensorInfo& t : file.tensors())
        estimate.weightBytes += t.bytes;
    estimate.contextTokens = contextFor(options, config);
    estimate.kvBytes = uint64_t(estimate.contextTokens) * kvBytesPerToken(config, options.device);
    estimate.scratchBytes = scratchEstimate(config, options.device);
    estimate.availableBytes = availableBytes(options.device);
    if (options.device == Device::Cuda && options.gpuMemoryBudget > 0 &&
        options.gpuMemoryBudget < estimate.availableBytes) {
        estimate.availableBytes = options.gpuMemoryBudget;
        estimate.limitedByBudget = true;
    }
    return estimate;
}

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

// Where a load with `options` runs: the device asked for, or for Automatic the GPU when one
// answers and the estimate fits there, else the CPU. A GPU that is there but too small is named
// in `whyNotGpu`; none at all is no news. Whether the GPU computes the attention is the backend's
// to say (Backend::supportsAttention) when the load builds the model: a refusal there gives way
// to the CPU too.
struct DeviceChoice {
    Device device = Device::Cpu;
    std::string whyNotGpu;
};

DeviceChoice chooseDevice(const gguf::GgufFile& file, const model::ModelConfig& config,
                          const LoadOptions& options) {
    if (options.device != Device::Automatic) return {options.device, {}};
#ifdef HIPREADER_HAS_CUDA
    if (!backend::queryCudaDevice(backend::defaultCudaDevice())) return {};
    LoadOptions onGpu = options;
    onGpu.device = Device::Cuda;
    const MemoryEstimate estimate = estimateFor(file, config, onGpu);
    if (!estimate.fits())
        return {Device::Cpu, "the model needs about " + mib(estimate.totalBytes()) +
                                 " on the GPU and " + mib(estimate.availableBytes) +
                                 " is available there"};
    return {Device::Cuda, {}};
#else
    (void)file;
    (void)config;
    return {};
#endif
}

// `options` with Automatic resolved; a GPU chosen automatically still gives way to the CPU.
LoadOptions resolved(const LoadOptions& options, const DeviceChoice& choice) {
    LoadOptions result = options;
    result.device = choice.device;
    if (options.device == Device::Automatic) result.allowCpuFallback = true;
    return result;
}

// The tokenizer the model file describes; errors name the file (`name`).
Result<std::unique_ptr<tok::Tokenizer>> tokenizerOf(const gguf::GgufFile& file,
                                                    const std::string& name) {
    auto spec = tok::tokenizerSpecFromGguf(file);
    if (!spec) return spec.status().withContext(name);
    auto tokenizer = tok::Tokenizer::create(*spec);
    if (!tokenizer) return tokenizer.status().withContext(name);
    return std::move(*tokenizer);
}

// The compute backend `options` ask for, or why it cannot be made.
Result<std::unique_ptr<backend::Backend>> createBackend(const LoadOptions& options) {
    if (options.device == Device::Cpu)
        return backend::createCpuBackend(options.threads, options.int8CpuActivations);
#ifdef HIPREADER_HAS_CUDA
    backend::CudaBackendOptions cuda;
    cuda.memoryBudget = options.gpuMemoryBudget;
    return backend::createCudaBackend(cuda);
#else
    return makeError(ErrorCode::Unsupported, "this build has no GPU backend");
#endif
}

} // namespace

std::filesystem::path defaultModelPath() {
    const char* fileName = "SmolLM2-135M-Instruct.Q4_1.gguf";
    if (const char* env = std::getenv("HIPREADER_MODEL"); env && *env) return env;
    // A package may install to another prefix than the build's (CPack's .deb to /usr), so the
    // share folder beside the running executable comes before the configured one.
    std::error_code error;
    const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
    const std::filesystem::path besideExecutable =
        error ? std::filesystem::path()
              : executable.parent_path().parent_path() / "share" / "hipreader" / "models";
    for (const std::filesystem::path& dir :
         {std::filesystem::path(HIPREADER_SOURCE_MODELS_DIR), besideExecutable,
          std::filesystem::path(HIPREADER_INSTALLED_MODELS_DIR)})
        if (!dir.empty() && std::filesystem::exists(dir / fileName, error)) return dir / fileName;
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

Result<int64_t> countTokens(const std::filesystem::path& model, const std::string& text) {
    auto file = gguf::GgufFile::open(model);
    HIP_TRY(file);
    auto tokenizer = tokenizerOf(*file, model.filename().string());
    HIP_TRY(tokenizer);
    return int64_t((*tokenizer)->encode(text, {.addSpecial = false}).ids.size());
}

LoadOptions withPlan(LoadOptions options, const ContextPlan& plan) {
    options.attention = plan.attention;
    options.contextTokens = plan.contextTokens;
    return options;
}

Result<ContextPlan> Engine::planForDocument(const LoadOptions& options, int64_t documentTokens,
                                            bool attentionChosen) {
    auto file = gguf::GgufFile::open(options.model);
    HIP_TRY(file);
    auto config = model::readModelConfig(*file);
    if (!config) return config.status().withContext(options.model.filename().string());
    const auto estimateWith = [&](const ContextPlan& plan) {
        const LoadOptions planned = withPlan(options, plan);
        return estimateFor(*file, *config,
                           resolved(planned, chooseDevice(*file, *config, planned)));
    };
    ContextRequest request;
    request.documentTokens = documentTokens;
    request.trainedContext = config->contextLength;
    request.attention = options.attention;
    request.attentionChosen = attentionChosen;
    request.contextTokens = options.contextTokens;
    // First what the document wants, then as much of it as the memory of the device it lands on
    // holds.
    request.memoryTokens = estimateWith(planContext(request)).maxContextTokens();
    ContextPlan plan = planContext(request);
    plan.estimate = estimateWith(plan);
    return plan;
}

Result<MemoryEstimate> Engine::estimateMemory(const LoadOptions& options) {
    auto file = gguf::GgufFile::open(options.model);
    HIP_TRY(file);
    auto config = model::readModelConfig(*file);
    if (!config) return config.status().withContext(options.model.filename().string());
    return estimateFor(*file, *config, resolved(options, chooseDevice(*file, *config, options)));
}

namespace {

Status tooLarge(const std::string& name, const MemoryEstimate& estimate) {
    return makeError(ErrorCode::OutOfMemory,
                     name + " needs about " + mib(estimate.totalBytes()) + " (weights " +
                         mib(estimate.weightBytes) + ", KV cache for " +
                         std::to_string(estimate.contextTokens) + " tokens " +
                         mib(estimate.kvBytes) + ", scratch " + mib(estimate.scratchBytes) +
                         ") but only " + mib(estimate.availableBytes) +
                         " of memory is available; choose a shorter context or a smaller "
                         "model, or override the check");
}

} // namespace

Result<std::unique_ptr<Engine>> Engine::load(const LoadOptions& requested,
                                             const ProgressCallback& progress,
                                             const CancelToken& cancel) {
    HIP_TRY(requested.attention.validate());
    if (progress) progress({"reading model file", 0, 1});
    auto file = gguf::GgufFile::open(requested.model);
    HIP_TRY(file);
    const std::string name = requested.model.filename().string();

    auto state = std::make_unique<EngineState>(std::move(*file));
    auto config = model::readModelConfig(state->file);
    if (!config) return config.status().withContext(name);
    state->config = *config;
    state->contextTokens = contextFor(requested, *config);

    // A GPU that cannot be used is an error, or with allowCpuFallback a warning and the CPU.
    const DeviceChoice choice = chooseDevice(state->file, *config, requested);
    LoadOptions options = resolved(requested, choice);
    std::vector<std::string> warnings;
    if (!choice.whyNotGpu.empty()) warnings.push_back("running on the CPU: " + choice.whyNotGpu);
    auto fallBack = [&](const Status& reason) -> Status {
        if (options.device != Device::Cuda) return reason;
        if (!options.allowCpuFallback)
            return reason.withContext("cannot run on the GPU (load on the CPU, or allow the CPU "
                                      "fallback)");
        warnings.push_back("the GPU cannot be used (" + reason.message() +
                           "); running on the CPU instead");
        options.device = Device::Cpu;
        return Status::ok();
    };
    auto backend = createBackend(options);
    if (!backend) {
        HIP_TRY(fallBack(backend.status()));
        backend = createBackend(options);
        HIP_TRY(backend);
    }

    MemoryEstimate estimate = estimateFor(state->file, *config, options);
    if (!estimate.fits() && !options.allowOverMemory) {
        HIP_TRY(fallBack(tooLarge(name, estimate)));
        backend = createBackend(options);
        HIP_TRY(backend);
        estimate = estimateFor(state->file, *config, options);
        if (!estimate.fits()) return tooLarge(name, estimate);
    }
    if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "loading was cancelled");

    if (progress) progress({"reading tokenizer", 0, 1});
    auto tokenizer = tokenizerOf(state->file, name);
    HIP_TRY(tokenizer);
    state->tokenizer = std::move(*tokenizer);
    state->chatTemplate =
        tok::ChatTemplate::detect(state->file.getString("tokenizer.chat_template", "").value());

    auto transformer =
        model::Transformer::create(state->file, *config, **backend, prefillChunk(options.device),
                                   state->contextTokens, options.attention, progress, cancel);
    if (!transformer && options.device == Device::Cuda &&
        transformer.status().code() != ErrorCode::Cancelled) {
        HIP_TRY(fallBack(transformer.status().withContext(name)));
        backend = createBackend(options);
        HIP_TRY(backend);
        transformer = model::Transformer::create(state->file, *config, **backend,
                                                 prefillChunk(options.device), state->contextTokens,
                                                 options.attention, progress, cancel);
    }
    if (!transformer) return transformer.status().withContext(name);
    state->backend = std::move(*backend);
    state->transformer = std::move(*transformer);
    state->options = options;
    state->info = describe(state->file, state->transformer->config(), options.model);
    state->info.kvBytesPerToken = kvBytesPerToken(*config, options.device);
    std::unique_ptr<Engine> engine(new Engine(std::move(state)));
    engine->warnings_ = std::move(warnings);
    return engine;
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
    const backend::BackendMemory device = state_->backend->memory();
    report.scratchBytes = state_->transformer->scratchBytes() + device.workspaceBytes;
    {
        std::lock_guard lock(state_->sessionsMutex);
        for (const backend::KvCache* cache : state_->liveCaches)
            (device.kvOnDevice ? report.kvDeviceBytes : report.kvHostBytes) +=
                cache->residentBytes();
    }
    report.deviceFreeBytes = device.totalBytes ? device.freeBytes : runtime::availableHostMemory();
    report.deviceTotalBytes = device.totalBytes ? device.totalBytes : runtime::totalHostMemory();
    return report;
}

const AttentionConfig& Engine::attention() const {
    return state_->transformer->attention();
}

const DenseCrossover& Engine::denseCrossover() const {
    return state_->transformer->denseCrossover();
}

Status Engine::setAttention(const AttentionConfig& attention) {
    HIP_TRY(attention.validate());
    std::lock_guard lock(state_->computeMutex);
    return state_->transformer->setAttention(attention);
}

int64_t Engine::countTokens(const std::string& text) const {
    return int64_t(state_->tokenizer->encode(text, {.addSpecial = false}).ids.size());
}

int64_t Engine::contextTokens() const {
    return state_->contextTokens;
}

int64_t Engine::documentTokenBudget() const {
    return hip::documentTokenBudget(state_->contextTokens);
}

Device Engine::device() const {
    return state_->options.device;
}

const std::vector<std::string>& Engine::warnings() const {
    return warnings_;
}

std::unique_ptr<Session> Engine::newSession() {
    return std::make_unique<Session>(*state_);
}

} // namespace hip
