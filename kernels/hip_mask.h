#pragma once
// HiP's mask estimation on the GPU: InfiniteHiP's multi-stage pruning (the CPU reference is
// engine/attention/hip_mask.cpp; docs/HIP.md describes it). For every query block, stage 1 scores
// every chunk of the candidate keys, keeps the best, cuts them into the next stage's chunks, and
// so on; the last stage's kept chunks are the block's mask, one for all heads.
//
// A chunk's score is SelectRep's: for every query head, descend into the half of the chunk whose
// centre key scores higher until one key is left, keeping the best score seen; the chunk scores
// the best over heads. A key scores the maximum over the block's query rows, averaged in groups of
// the stage's query stride. Scoring places the query `window` after the representatives (left at
// position 0, right at 1), or in the first layers (chunk-indexed) the keys of the j-th chunk at
// j and the query at min(first query position, chunks + window). The cache holds keys rotated at
// their own positions: decode turns each probed key by the difference, prefill reads the call's
// keys unrotated once (hipUnrotateKeys) and turns them by the scoring position alone.

#include "kernels/hip_types.h"

namespace hip::kernels {

// Stages and chunk lists the kernels support: selection sorts a block's scores in shared memory.
constexpr int32_t kHipMaxStageChunks = 8192;
// Scoring rows per query block (the block's rows over a stage's query stride) the scoring kernel
// holds.
constexpr int32_t kHipMaxScoringRows = 128;

// When a decode step recomputes a stage: at steps where the step counter (device memory, counted
// since the last prefill) is a multiple of the refresh interval of this stage or an earlier one.
// Without a counter every stage runs.
struct HipRefresh {
    static constexpr int kMaxStages = 8;
    const int32_t* step = nullptr;
    int32_t intervals[kMaxStages] = {}; // of stages 0..stage
    int32_t count = 0;
};

struct HipPruningStage {
    HipQueries queries;
    KvLayer kv;
    RopeTables rope; // covers the rotation distances: the capacity, and chunks + window
    HipWindow window;
    int32_t chunkSize = 0;     // input chunks are at most this long
    int32_t keepChunks = 0;    // chunks kept
    int32_t queryStride = 1;   // query rows averaged together when scoring
    int32_t nextChunkSize = 0; // kept chunks are cut into pieces this long; 0: the last stage
    bool chunkIndexed = false; // the first layers' scoring positions
    HipChunkLists input;       // the stage's input per query block
    HipChunkLists output;      // the next stage's input, or the mask after the last stage
    float* scores = nullptr;   // scratch: input.capacity per query block
    HipRefresh refresh;
    // Prefill: the layer's keys unrotated (hipUnrotateKeys: fp16,
    // [kvHead][unrotatedRows][headDim]), which scoring multiplies on tensor cores. Null (decode):
    // keys are read from the cache and rotated one by one.
    const void* unrotatedKeys = nullptr;
    int64_t unrotatedRows = 0;
    // The device's multiprocessors: scoring splits a call of few query blocks (decode) across
    // enough blocks to fill them.
    int32_t multiprocessors = 1;
};

// Stage 1's input per query block: chunks of `chunkSize` over [sinks, candidate end), the
// candidate end being max(sinks, last position + 1 - window). Runs when refresh says stage 0 does.
cudaError_t hipInitialChunks(const HipQueries& queries, const HipWindow& window, int32_t chunkSize,
                             const HipChunkLists& chunks, const HipRefresh& refresh,
                             cudaStream_t stream);

// One pruning stage: scores every input chunk (kept in `scores`), keeps the best keepChunks
// (ties to the earlier chunk) in position order, and writes them, cut for the next stage, to
// output. Input lists of at most kHipMaxStageChunks chunks; output.capacity must hold the pieces.
cudaError_t hipPruneStage(const HipPruningStage& stage, cudaStream_t stream);

// Writes the keys of positions [0, positions) of every KV head of `kv` rotated back to position 0,
// in fp16, to out[kvHead][outRows][headDim]: prefill's scoring reads them (HipPruningStage).
cudaError_t hipUnrotateKeys(const KvLayer& kv, const RopeTables& rope, int64_t positions, void* out,
                            int64_t outRows, cudaStream_t stream);

// Readies the kernels for keys of `type` and `headDim` (their shared-memory opt-ins), which must
// happen before a launch is captured into a graph.
cudaError_t hipMaskPrepare(Half16 type, int32_t headDim);

// Counts a decode step: *step += 1 (on the device, so a decode graph replays it).
cudaError_t hipAdvanceStep(int32_t* step, cudaStream_t stream);

} // namespace hip::kernels
