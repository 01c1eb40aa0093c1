#pragma once
// The engine boundary: everything the UI and the CLI may use lives in engine/include/hip.

#include "hip/attention_config.h"
#include "hip/cancel.h"
#include "hip/context_plan.h"
#include "hip/device.h"
#include "hip/generation.h"
#include "hip/memory_report.h"
#include "hip/model_info.h"
#include "hip/status.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hip {

class Session;
struct EngineState;

struct LoadOptions {
    std::filesystem::path model;
    Device device = Device::Cpu;
    int threads = 0;           // CPU threads; 0 = all cores
    int64_t contextTokens = 0; // KV capacity a session may grow to; 0 = the model's trained context
    bool allowOverMemory = false; // load even when the estimate says it will not fit
    // Device::Cuda only (Automatic always does it): when the GPU cannot be used (none, a CUDA
    // error, too little memory, HiP attention), load on the CPU and say so in Engine::warnings()
    // instead of failing.
    bool allowCpuFallback = false;
    // On the GPU only: the most bytes of GPU memory the engine may allocate (weights, KV cache,
    // scratch); 0 = whatever is free. Estimates count it as the memory available.
    uint64_t gpuMemoryBudget = 0;
    AttentionConfig attention; // dense unless a HiP preset is chosen
    // On the CPU only: decode products quantize their activations to 8 bits per 32-element block
    // and take integer dot products, as llama.cpp does (decode about 1.5-1.7 times faster on the
    // 2-core machine), at the cost of logits that move by up to about 0.5 (docs/PERFORMANCE.md);
    // prefill stays in fp32, so a token's logits depend on whether it was decoded or prefilled.
    // Off, the CPU backend is the fp32 reference that the tests compare with transformers.
    bool int8CpuActivations = false;
};

// Where the default model lives: $HIPREADER_MODEL, else the models/ folder that scripts/setup
// fills next to the source tree, else share/hipreader/models beside the running executable's
// bin/ folder or under the configured install prefix (where the package puts it).
std::filesystem::path defaultModelPath();

// Reads a model's header and describes it without loading the weights.
Result<ModelInfo> inspectModel(const std::filesystem::path& path);

// Tokens `text` takes with the model's tokenizer (no special tokens added), without loading the
// weights: what a caller needs to plan a document's context before loading.
Result<int64_t> countTokens(const std::filesystem::path& model, const std::string& text);

// `options` with the plan's attention and context.
LoadOptions withPlan(LoadOptions options, const ContextPlan& plan);

class Engine {
public:
    // Estimates the memory a load with these options needs and what the device has free, for the
    // device the load would run on (Automatic resolved: MemoryEstimate::device).
    static Result<MemoryEstimate> estimateMemory(const LoadOptions& options);
    // The attention and context for reading a document of `documentTokens` text tokens with a
    // load of `options` (hip::planContext, given the model's trained context and what the memory
    // of the device the load would use holds), with the estimate for the planned options.
    // options.contextTokens > 0 is the user's choice; `attentionChosen` says options.attention is.
    static Result<ContextPlan> planForDocument(const LoadOptions& options, int64_t documentTokens,
                                               bool attentionChosen);
    static Result<std::unique_ptr<Engine>> load(const LoadOptions& options,
                                                const ProgressCallback& progress = {},
                                                const CancelToken& cancel = {});
    ~Engine();

    const ModelInfo& info() const;
    MemoryReport memory() const; // safe to call from any thread, also during work
    const AttentionConfig& attention() const;
    // Switches attention for later work, also between the tokens of an answer (masks cached
    // under the old settings are recomputed).
    Status setAttention(const AttentionConfig& attention);
    // From which context lengths HiP's layers run sparse: the configuration's value, or where
    // dense and HiP were timed on this GPU for this model when the configuration leaves it open.
    const DenseCrossover& denseCrossover() const;
    std::unique_ptr<Session> newSession();
    // Tokens `text` takes (no special tokens added): lets a caller see whether a text fits.
    int64_t countTokens(const std::string& text) const;
    // KV capacity of each session in tokens.
    int64_t contextTokens() const;
    // Tokens a document may take in Session::ingest: the context less room for a question and
    // its answer.
    int64_t documentTokenBudget() const;
    // Where the model runs (Cpu after a fallback from Cuda; never Automatic).
    Device device() const;
    // What the load did differently from what was asked (e.g. a fallback to the CPU).
    const std::vector<std::string>& warnings() const;

private:
    explicit Engine(std::unique_ptr<EngineState> state);
    // Evaluations (engine/eval) read the model's real queries and keys through the internals.
    friend EngineState& engineState(Engine& engine);
    std::unique_ptr<EngineState> state_;
    std::vector<std::string> warnings_;
};

} // namespace hip
