#pragma once
// HiP mask estimation on the CPU: which key blocks a block of queries attends to.
//
// Main path (InfiniteHiP): multi-stage pruning. Each stage cuts the surviving keys into chunks,
// finds a representative key per chunk by hierarchical top-1 descent (SelectRep), scores the
// chunk by the best representative over all heads and query rows, and keeps the best chunks.
// Optional path (HiP v1.1): one hierarchical top-k tree per head over small key blocks.
// Keys are stored unrotated; scoring rotates them at remapped positions (see docs/HIP.md).

#include "attention/rope.h"
#include "backend/backend.h"
#include "hip/attention_config.h"
#include "hip/attention_trace.h"
#include "kv/paged_kv_store.h"

#include <vector>

namespace hip::attention {

using ChunkList = std::vector<KeyRange>; // sorted by position

// Consecutive query rows (unrotated, heads x headDim values each) at consecutive positions.
struct QueryBlock {
    backend::Act rows;
    int64_t firstPosition = 0;
    int64_t lastPosition() const { return firstPosition + rows.rows - 1; }
};

// The selection for one query block: one key list per query head, or a single list shared by
// all heads (multi-stage pruning shares; the tree gives each head its own).
struct BlockMask {
    std::vector<ChunkList> heads;
    const ChunkList& forHead(int32_t head) const {
        return heads.size() == 1 ? heads[0] : heads[size_t(head)];
    }
};

struct PruningContext {
    const kv::PagedKvStore& store;
    int32_t layer;
    const backend::AttentionParams& params;
    const AttentionConfig& config;
    const Rope& rope; // prepared up to ropePositionsNeeded()
};

// Largest rope position mask estimation uses at this context length (plus one).
int64_t ropePositionsNeeded(const AttentionConfig& config, int64_t contextTokens);

// Keys a query block chooses from: [sinks, lastPosition + 1 - window); the window and sinks are
// always attended.
int64_t candidateEnd(const AttentionConfig& config, int64_t lastPosition);
// The first stage's input: its chunk grid over the candidates.
ChunkList initialChunks(const AttentionConfig& config, int64_t candidateEnd);

// Chunks stage `stage` keeps (the last stage's budget depends on the layer).
int64_t stageKeepChunks(const PruningContext& context, size_t stage);
// Stage `stage`'s score of every input chunk: SelectRep per head, the best over heads.
std::vector<float> scoreChunks(const PruningContext& context, size_t stage, const ChunkList& input,
                               const QueryBlock& query);

// Runs stages [firstStage, N) on `input` (the input of firstStage). Writes the input of every
// later stage to stageInputs[s] (stageInputs has N entries) and returns the final key blocks.
ChunkList runStages(const PruningContext& context, size_t firstStage, ChunkList input,
                    const QueryBlock& query, std::vector<ChunkList>& stageInputs);

// The mask of one query block from scratch: every pruning stage (writing each stage's input to
// stageInputs), or the tree in Mode::HipTree.
BlockMask estimateMask(const PruningContext& context, const QueryBlock& query,
                       std::vector<ChunkList>& stageInputs);

// HiP v1.1: per-head hierarchical top-k over key blocks of config.treeKeyBlock tokens.
BlockMask treeMask(const PruningContext& context, const QueryBlock& query);

// Sorts, merges touching ranges and clips to [0, end).
ChunkList mergeRanges(ChunkList ranges, int64_t end);

} // namespace hip::attention
