#pragma once
// How attention is computed: exact (dense) or Hierarchically Pruned Attention. Named presets
// follow the InfiniteHiP paper's configurations; every field can be changed (the CLI exposes all).

#include "hip/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hip {

// One pruning stage of InfiniteHiP: the surviving keys are cut into chunks of `chunkSize`, each
// chunk is scored by its best representative key, and the best chunks holding `keepTokens` keys
// survive. During decode the stage is recomputed every `refreshInterval` steps.
struct PruningStage {
    int32_t chunkSize = 256;
    int64_t keepTokens = 32768;
    int32_t queryStride = 4; // query rows averaged together when scoring a query block
    int32_t refreshInterval = 16;
    friend bool operator==(const PruningStage&, const PruningStage&) = default;
};

// The context lengths from which HiP's layers run sparse instead of dense: for a prefill pass (of
// the engine's batch of query rows) and for a decode step.
struct DenseCrossover {
    int64_t prefillTokens = 0;
    int64_t decodeTokens = 0;
    bool measured = false; // timed on this device for this shape (else the configuration's value)
    int64_t tokens(bool decode) const { return decode ? decodeTokens : prefillTokens; }
    friend bool operator==(const DenseCrossover&, const DenseCrossover&) = default;
};

struct AttentionConfig {
    enum class Mode {
        Dense,   // exact attention over every key
        Hip,     // InfiniteHiP multi-stage pruning (the main path)
        HipTree, // HiP v1.1 single hierarchical top-k tree
    };

    std::string name = "dense"; // the preset it came from, for display
    Mode mode = Mode::Dense;

    // Shared by both HiP modes.
    int32_t sinkTokens = 256;    // always attended: the first tokens
    int32_t windowTokens = 1024; // always attended: the most recent tokens
    int32_t queryBlock = 64;     // queries sharing one mask in prefill
    // Context length below which every layer stays dense (short texts never get slower). Unset:
    // where the backend measured dense to be faster (the CUDA backend times both for the model's
    // shape), else kDefaultDenseBelowTokens.
    std::optional<int64_t> denseBelowTokens;
    static constexpr int64_t kDefaultDenseBelowTokens = 4096;

    // Multi-stage pruning (Mode::Hip). The last stage's keepTokens is the final budget and its
    // chunk size the key block of the sparse attention.
    std::vector<PruningStage> stages;
    int32_t firstLayers = 3; // layers pruned with chunk-indexed rope and given a larger budget
    int64_t firstLayersFinalTokens = 4096; // final budget in those layers

    // Single tree (Mode::HipTree).
    int32_t treeQueryBlock = 32;
    int32_t treeKeyBlock = 2;
    int64_t treeTokens = 512;
    int32_t treeRefreshInterval = 8;
    int32_t treeDenseLayers = 3; // first layers kept dense, as the HiP paper does

    // Presets: dense, hip-3k, hip-3k-fast, hip-3k-flash, hip-5k, hip-tree.
    static std::optional<AttentionConfig> preset(std::string_view name);
    static std::vector<std::string> presetNames();

    Status validate() const;
    std::string describe() const; // one line, for logs and the CLI
    friend bool operator==(const AttentionConfig&, const AttentionConfig&) = default;
    // Keys the final mask of `layer` keeps (not counting sinks and window).
    int64_t finalTokens(int32_t layer) const;
    // The crossover this configuration fixes, or the default where it leaves it to a measurement.
    DenseCrossover fixedCrossover() const;
    // Whether `layer` runs dense at a context of `contextTokens`, HiP's layers running sparse
    // from `crossoverTokens` (the phase's DenseCrossover value).
    bool denseAt(int32_t layer, int64_t contextTokens, int64_t crossoverTokens) const;
};

} // namespace hip
