#include "hip/attention_config.h"

#include <sstream>

namespace hip {
namespace {

AttentionConfig multiStage(std::string name, std::vector<PruningStage> stages,
                           int64_t firstLayersFinal) {
    AttentionConfig config;
    config.name = std::move(name);
    config.mode = AttentionConfig::Mode::Hip;
    config.stages = std::move(stages);
    config.firstLayersFinalTokens = firstLayersFinal;
    return config;
}

// InfiniteHiP's "3K" stages (chunks 256/32/8 keeping 32K/8K/2K) with a refresh schedule.
AttentionConfig threeK(std::string name, int32_t r1, int32_t r2, int32_t r3) {
    return multiStage(std::move(name), {{256, 32768, 4, r1}, {32, 8192, 4, r2}, {8, 2048, 1, r3}},
                      4096);
}

} // namespace

std::vector<std::string> AttentionConfig::presetNames() {
    return {"dense", "hip-3k", "hip-3k-fast", "hip-3k-flash", "hip-5k", "hip-tree"};
}

std::optional<AttentionConfig> AttentionConfig::preset(std::string_view name) {
    if (name == "dense") return AttentionConfig{};
    if (name == "hip-3k") return threeK("hip-3k", 16, 8, 4);
    if (name == "hip-3k-fast") return threeK("hip-3k-fast", 32, 16, 8);
    if (name == "hip-3k-flash") return threeK("hip-3k-flash", 96, 24, 8);
    if (name == "hip-5k")
        return multiStage("hip-5k", {{64, 32768, 4, 16}, {32, 16384, 4, 8}, {16, 4096, 1, 4}},
                          4096);
    if (name == "hip-tree") {
        AttentionConfig config;
        config.name = "hip-tree";
        config.mode = Mode::HipTree;
        return config;
    }
    return std::nullopt;
}

Status AttentionConfig::validate() const {
    auto bad = [](const std::string& what) {
        return makeError(ErrorCode::InvalidArgument, "attention: " + what);
    };
    if (sinkTokens < 0 || windowTokens < 1) return bad("sinks must be >= 0 and the window >= 1");
    if (queryBlock < 1) return bad("the query block must be at least 1");
    if (denseBelowTokens && *denseBelowTokens < 0) return bad("the dense crossover must be >= 0");
    if (mode == Mode::Hip) {
        if (stages.empty()) return bad("HiP needs at least one pruning stage");
        for (size_t i = 0; i < stages.size(); ++i) {
            const PruningStage& s = stages[i];
            const std::string which = "stage " + std::to_string(i + 1) + ": ";
            if (s.chunkSize < 1 || s.keepTokens < s.chunkSize)
                return bad(which + "the chunk size must be >= 1 and keep at least one chunk");
            if (s.keepTokens % s.chunkSize)
                return bad(which + "kept tokens must be a multiple of the chunk size");
            if (s.queryStride < 1 || queryBlock % s.queryStride)
                return bad(which + "the query stride must divide the query block");
            if (s.refreshInterval < 1) return bad(which + "the refresh interval must be >= 1");
            if (i > 0) {
                const PruningStage& previous = stages[i - 1];
                if (previous.chunkSize % s.chunkSize)
                    return bad(which + "the chunk size must divide the previous stage's");
                if (s.keepTokens > previous.keepTokens)
                    return bad(which + "cannot keep more tokens than the previous stage");
                if (previous.refreshInterval % s.refreshInterval)
                    return bad(which + "refresh intervals must nest (each divides the previous)");
            }
        }
        if (firstLayers < 0) return bad("first layers must be >= 0");
        if (firstLayersFinalTokens % stages.back().chunkSize)
            return bad("the first layers' budget must be a multiple of the last chunk size");
    }
    if (mode == Mode::HipTree) {
        if (treeQueryBlock < 1 || treeKeyBlock < 1) return bad("tree blocks must be >= 1");
        if (treeTokens < treeKeyBlock || treeTokens % treeKeyBlock)
            return bad("tree tokens must be a positive multiple of the key block");
        if (treeRefreshInterval < 1 || treeDenseLayers < 0)
            return bad("tree refresh must be >= 1 and dense layers >= 0");
    }
    return Status::ok();
}

int64_t AttentionConfig::finalTokens(int32_t layer) const {
    if (mode == Mode::HipTree) return treeTokens;
    if (stages.empty()) return 0;
    return layer < firstLayers ? firstLayersFinalTokens : stages.back().keepTokens;
}

DenseCrossover AttentionConfig::fixedCrossover() const {
    const int64_t tokens = denseBelowTokens.value_or(kDefaultDenseBelowTokens);
    return {tokens, tokens, false};
}

bool AttentionConfig::denseAt(int32_t layer, int64_t contextTokens, int64_t crossoverTokens) const {
    if (mode == Mode::Dense || contextTokens < crossoverTokens) return true;
    return mode == Mode::HipTree && layer < treeDenseLayers;
}

std::string AttentionConfig::describe() const {
    std::ostringstream out;
    out << name << ": ";
    switch (mode) {
    case Mode::Dense:
        out << "exact attention";
        return out.str();
    case Mode::Hip:
        out << "InfiniteHiP, stages";
        for (const PruningStage& s : stages)
            out << " (chunk " << s.chunkSize << ", keep " << s.keepTokens << ", stride "
                << s.queryStride << ", refresh " << s.refreshInterval << ")";
        out << ", first " << firstLayers << " layers keep " << firstLayersFinalTokens;
        break;
    case Mode::HipTree:
        out << "HiP tree, query block " << treeQueryBlock << ", key block " << treeKeyBlock
            << ", k " << treeTokens << ", refresh " << treeRefreshInterval << ", dense layers "
            << treeDenseLayers;
        break;
    }
    out << ", sinks " << sinkTokens << ", window " << windowTokens << ", query block " << queryBlock
        << ", dense below ";
    if (denseBelowTokens)
        out << *denseBelowTokens << " tokens";
    else
        out << "the measured crossover";
    return out.str();
}

} // namespace hip
