#include "attention/hip_mask.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

namespace hip::attention {
namespace {

constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

// Query rows prepared for scoring: for every query head, the block's rows averaged in groups of
// `stride` and rotated at the pruning query position.
class ScoringQueries {
public:
    ScoringQueries(const PruningContext& c, const QueryBlock& query, int32_t stride,
                   int64_t ropePosition)
        : headDim_(c.params.headDim), heads_(c.params.heads),
          rows_((query.rows.rows + stride - 1) / stride) {
        values_.assign(size_t(heads_ * rows_ * headDim_), 0.0f);
        for (int32_t h = 0; h < heads_; ++h) {
            for (int64_t r = 0; r < rows_; ++r) {
                float* dst = row(h, r);
                const int64_t first = r * stride;
                const int64_t count = std::min<int64_t>(stride, query.rows.rows - first);
                for (int64_t i = 0; i < count; ++i) {
                    const float* src = query.rows.row(first + i) + int64_t(h) * headDim_;
                    for (int32_t d = 0; d < headDim_; ++d)
                        dst[d] += src[d];
                }
                for (int32_t d = 0; d < headDim_; ++d)
                    dst[d] /= float(count);
                c.rope.rotate(dst, ropePosition);
            }
        }
    }

    // Best score of any averaged row of `head` against one rotated key.
    float maxScore(int32_t head, const float* key) const {
        float best = kNegativeInfinity;
        for (int64_t r = 0; r < rows_; ++r) {
            const float* q = row(head, r);
            float dot = 0.0f;
            for (int32_t d = 0; d < headDim_; ++d)
                dot += q[d] * key[d];
            best = std::max(best, dot);
        }
        return best;
    }

private:
    float* row(int32_t head, int64_t r) {
        return values_.data() + (int64_t(head) * rows_ + r) * headDim_;
    }
    const float* row(int32_t head, int64_t r) const {
        return values_.data() + (int64_t(head) * rows_ + r) * headDim_;
    }

    int32_t headDim_;
    int32_t heads_;
    int64_t rows_;
    std::vector<float> values_;
};

// Scores key `position` for `head` with the key rotated at `ropePosition`.
float scoreKey(const PruningContext& c, const ScoringQueries& queries, int32_t head,
               int64_t position, int64_t ropePosition, std::vector<float>& scratch) {
    const int32_t kvHead = head / (c.params.heads / c.params.kvHeads);
    scratch.resize(size_t(c.params.headDim));
    std::memcpy(scratch.data(), c.store.keys(c.layer, position) + kvHead * c.params.headDim,
                sizeof(float) * scratch.size());
    c.rope.rotate(scratch.data(), ropePosition);
    return queries.maxScore(head, scratch.data());
}

// SelectRep: descends into the half whose centre key scores higher until one key is left; the
// chunk's score is the best representative seen on the way down (a running max).
float selectRepresentative(const PruningContext& c, const ScoringQueries& queries, int32_t head,
                           KeyRange chunk, int64_t leftRope, int64_t rightRope,
                           std::vector<float>& scratch) {
    int64_t left = chunk.begin, right = chunk.end;
    if (right - left == 1) return scoreKey(c, queries, head, left, leftRope, scratch);
    float best = kNegativeInfinity;
    while (right - left >= 2) {
        const int64_t middle = (left + right) / 2;
        const float leftScore = scoreKey(c, queries, head, (left + middle) / 2, leftRope, scratch);
        const float rightScore =
            scoreKey(c, queries, head, (middle + right) / 2, rightRope, scratch);
        if (leftScore >= rightScore) {
            right = middle;
            best = std::max(best, leftScore);
        } else {
            left = middle;
            best = std::max(best, rightScore);
        }
    }
    return best;
}

// Indices of the `keep` highest scores; ties go to the earlier chunk, so results are stable.
std::vector<size_t> topIndices(const std::vector<float>& scores, size_t keep) {
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t(0));
    keep = std::min(keep, order.size());
    std::partial_sort(
        order.begin(), order.begin() + ptrdiff_t(keep), order.end(),
        [&](size_t a, size_t b) { return scores[a] != scores[b] ? scores[a] > scores[b] : a < b; });
    order.resize(keep);
    std::sort(order.begin(), order.end()); // back to position order
    return order;
}

// One pruning stage: scores every input chunk and keeps the best `keepChunks`.
ChunkList pruneStage(const PruningContext& c, size_t stage, const ChunkList& input,
                     const QueryBlock& query) {
    const size_t keepChunks = size_t(stageKeepChunks(c, stage));
    if (input.size() <= keepChunks) return input;
    ChunkList kept;
    for (size_t index : topIndices(scoreChunks(c, stage, input, query), keepChunks))
        kept.push_back(input[index]);
    return kept;
}

// Cuts every chunk into pieces of `size` (the last piece of a chunk may be shorter).
ChunkList split(const ChunkList& chunks, int32_t size) {
    ChunkList pieces;
    for (const KeyRange& chunk : chunks)
        for (int64_t begin = chunk.begin; begin < chunk.end; begin += size)
            pieces.push_back({begin, std::min(begin + size, chunk.end)});
    return pieces;
}

} // namespace

int64_t stageKeepChunks(const PruningContext& c, size_t stage) {
    const PruningStage& s = c.config.stages[stage];
    const bool last = stage + 1 == c.config.stages.size();
    const int64_t keepTokens = last ? c.config.finalTokens(c.layer) : s.keepTokens;
    return keepTokens / s.chunkSize;
}

std::vector<float> scoreChunks(const PruningContext& c, size_t stage, const ChunkList& input,
                               const QueryBlock& query) {
    const PruningStage& s = c.config.stages[stage];
    // Relative rope: the query sits `window` after both representatives (left at 0, right at
    // 1), so content decides. Chunk-indexed rope (first layers): keys of the j-th candidate
    // chunk sit at j and the query just after the last chunk, which favours recent chunks the
    // way early layers attend.
    const bool chunkIndexed = c.layer < c.config.firstLayers;
    const int64_t window = c.config.windowTokens;
    const int64_t queryRope =
        chunkIndexed ? std::min<int64_t>(query.firstPosition, int64_t(input.size()) + window)
                     : window;
    const ScoringQueries queries(c, query, s.queryStride, queryRope);
    std::vector<float> scores(input.size(), kNegativeInfinity);
    std::vector<float> scratch;
    for (size_t j = 0; j < input.size(); ++j) {
        const int64_t leftRope = chunkIndexed ? int64_t(j) : 0;
        const int64_t rightRope = chunkIndexed ? int64_t(j) : 1;
        for (int32_t h = 0; h < c.params.heads; ++h)
            scores[j] = std::max(scores[j], selectRepresentative(c, queries, h, input[j], leftRope,
                                                                 rightRope, scratch));
    }
    return scores;
}

int64_t ropePositionsNeeded(const AttentionConfig& config, int64_t contextTokens) {
    // Relative scoring uses positions up to the window; chunk-indexed scoring up to the number
    // of chunks plus the window.
    int64_t chunks = 0;
    if (!config.stages.empty())
        chunks = contextTokens / std::max(1, config.stages.back().chunkSize) + 1;
    return chunks + config.windowTokens + 2;
}

int64_t candidateEnd(const AttentionConfig& config, int64_t lastPosition) {
    return std::max<int64_t>(config.sinkTokens, lastPosition + 1 - config.windowTokens);
}

ChunkList initialChunks(const AttentionConfig& config, int64_t end) {
    ChunkList chunks;
    if (config.stages.empty()) return chunks;
    const int64_t size = config.stages.front().chunkSize;
    for (int64_t begin = config.sinkTokens; begin < end; begin += size)
        chunks.push_back({begin, std::min(begin + size, end)});
    return chunks;
}

ChunkList runStages(const PruningContext& context, size_t firstStage, ChunkList input,
                    const QueryBlock& query, std::vector<ChunkList>& stageInputs) {
    const size_t stageCount = context.config.stages.size();
    stageInputs.resize(stageCount);
    for (size_t stage = firstStage; stage < stageCount; ++stage) {
        if (stage > firstStage) stageInputs[stage] = input;
        ChunkList kept = pruneStage(context, stage, input, query);
        if (stage + 1 == stageCount) return kept;
        input = split(kept, context.config.stages[stage + 1].chunkSize);
    }
    return input;
}

BlockMask estimateMask(const PruningContext& context, const QueryBlock& query,
                       std::vector<ChunkList>& stageInputs) {
    if (context.config.mode == AttentionConfig::Mode::HipTree) return treeMask(context, query);
    const int64_t end = candidateEnd(context.config, query.lastPosition());
    ChunkList selected =
        runStages(context, 0, initialChunks(context.config, end), query, stageInputs);
    return {{mergeRanges(std::move(selected), end)}};
}

BlockMask treeMask(const PruningContext& c, const QueryBlock& query) {
    const AttentionConfig& config = c.config;
    const int64_t begin = config.sinkTokens;
    const int64_t end = candidateEnd(config, query.lastPosition());
    const int64_t blockSize = config.treeKeyBlock;
    const int64_t blocks = std::max<int64_t>(0, (end - begin + blockSize - 1) / blockSize);
    const int64_t nodes = config.treeTokens / blockSize;
    auto range = [&](int64_t block) {
        return KeyRange{begin + block * blockSize, std::min(begin + (block + 1) * blockSize, end)};
    };

    BlockMask mask;
    mask.heads.resize(size_t(c.params.heads));
    if (blocks <= nodes) {
        if (end > begin) mask.heads.assign(1, {{begin, end}});
        return mask;
    }
    const ScoringQueries queries(c, query, 1, config.windowTokens);
    std::vector<float> scratch;
    // A branch's score: the best key of its centre block.
    auto scoreBlock = [&](int32_t head, int64_t block) {
        const KeyRange keys = range(block);
        float best = kNegativeInfinity;
        for (int64_t p = keys.begin; p < keys.end; ++p)
            best = std::max(best, scoreKey(c, queries, head, p, 0, scratch));
        return best;
    };

    struct Branch {
        int64_t start, size; // in blocks
    };
    for (int32_t h = 0; h < c.params.heads; ++h) {
        // Start from `nodes` equal groups of blocks; halve every group and keep the best halves
        // until every group is a single block.
        std::vector<Branch> groups;
        for (int64_t j = 0; j < nodes; ++j) {
            const int64_t start = j * blocks / nodes, next = (j + 1) * blocks / nodes;
            if (next > start) groups.push_back({start, next - start});
        }
        for (;;) {
            const bool done = std::all_of(groups.begin(), groups.end(),
                                          [](const Branch& b) { return b.size == 1; });
            if (done) break;
            std::vector<Branch> branches;
            std::vector<float> scores;
            for (const Branch& g : groups) {
                const int64_t half = g.size / 2;
                for (const Branch b :
                     {Branch{g.start, half}, Branch{g.start + half, g.size - half}}) {
                    if (b.size == 0) continue;
                    branches.push_back(b);
                    scores.push_back(scoreBlock(h, b.start + b.size / 2));
                }
            }
            groups.clear();
            for (size_t index : topIndices(scores, size_t(nodes)))
                groups.push_back(branches[index]);
        }
        ChunkList selected;
        for (const Branch& g : groups)
            selected.push_back(range(g.start));
        mask.heads[size_t(h)] = mergeRanges(std::move(selected), end);
    }
    return mask;
}

ChunkList mergeRanges(ChunkList ranges, int64_t end) {
    std::sort(ranges.begin(), ranges.end(),
              [](const KeyRange& a, const KeyRange& b) { return a.begin < b.begin; });
    ChunkList merged;
    for (KeyRange r : ranges) {
        r.end = std::min(r.end, end);
        if (r.end <= r.begin) continue;
        if (!merged.empty() && r.begin <= merged.back().end)
            merged.back().end = std::max(merged.back().end, r.end);
        else
            merged.push_back(r);
    }
    return merged;
}

} // namespace hip::attention
