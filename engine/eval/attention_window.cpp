// One window of attention: for the last query rows of a short context, the exact (dense)
// attention probability of every key beside the keys HiP attends for the same row, from the
// model's real queries and keys and HiP's real mask estimation.

#include "attention/block_sparse_attention.h"
#include "eval/attention_capture.h"
#include "eval/dense_logits.h"

#include <algorithm>

namespace hip::eval {
namespace {

using attention::BlockMask;

// A query block on prefill's grid that holds query rows of the window, with the mask HiP
// estimates for it: the selected key positions (sorted) per entry of mask.heads.
struct MaskedBlock {
    int64_t firstPosition = 0;
    int64_t rows = 0;
    std::vector<std::vector<int64_t>> selected;
    const std::vector<int64_t>& forHead(int32_t head) const {
        return selected.size() == 1 ? selected[0] : selected[size_t(head)];
    }
};

std::vector<int64_t> positionsIn(const attention::ChunkList& ranges) {
    std::vector<int64_t> positions;
    for (const KeyRange& r : ranges)
        for (int64_t p = r.begin; p < r.end; ++p)
            positions.push_back(p);
    return positions;
}

// Sets row[k] to 1 for the keys a query at `position` attends in block-sparse attention: the
// visible sinks, the selected keys before its window, its window.
void markAttended(const std::vector<int64_t>& selected, int64_t position,
                  const AttentionConfig& config, uint8_t* row) {
    const attention::RowLayout layout = attention::rowLayout(selected, position, config);
    std::fill(row, row + layout.visibleSinks, uint8_t(1));
    for (int64_t j = 0; j < layout.visibleSelected; ++j)
        row[selected[size_t(j)]] = 1;
    std::fill(row + layout.windowStart, row + position + 1, uint8_t(1));
}

Status checkOptions(const WindowOptions& options, const model::ModelConfig& model) {
    const AttentionConfig& config = options.attention;
    if (config.mode == AttentionConfig::Mode::Dense)
        return makeError(ErrorCode::InvalidArgument,
                         "the window compares dense attention with a HiP configuration, not with "
                         "dense attention");
    HIP_TRY(config.validate());
    const auto bad = [](const std::string& what) {
        return makeError(ErrorCode::InvalidArgument, "attention window: " + what);
    };
    if (options.contextTokens < 1) return bad("the context needs at least one token");
    if (options.queryTokens < 1 || options.queryTokens > options.contextTokens)
        return bad("the query rows must number between 1 and the context's " +
                   std::to_string(options.contextTokens) + " tokens");
    if (options.layer < 0 || options.layer >= model.layers)
        return bad("layer " + std::to_string(options.layer) + " does not exist (the model has " +
                   std::to_string(model.layers) + ")");
    if (options.head < -1 || options.head >= model.heads)
        return bad("head " + std::to_string(options.head) + " does not exist (the model has " +
                   std::to_string(model.heads) + "; -1 is their mean)");
    return Status::ok();
}

} // namespace

Result<WindowReport> measureWindow(Engine& engine, const WindowOptions& options,
                                   const ProgressCallback& progress, const CancelToken& cancel) {
    EngineState& state = engineState(engine);
    const model::ModelConfig& model = state.transformer->config();
    HIP_TRY(checkOptions(options, model));
    const AttentionConfig config = alwaysPruning(options.attention);
    const int64_t length = options.contextTokens;
    const int64_t firstQuery = length - options.queryTokens;
    auto tokens = leadingTokens(state, options.text, length);
    HIP_TRY(tokens);

    // Every query block of prefill's grid that holds a query row is captured whole: its mask is
    // estimated from all of its rows.
    const int64_t block = prefillQueryBlock(config);
    const int64_t firstCaptured = firstQuery / block * block;
    std::vector<int64_t> positions;
    for (int64_t p = firstCaptured; p < length; ++p)
        positions.push_back(p);
    auto capture = captureAttention(engine, *tokens, std::move(positions), progress, cancel);
    HIP_TRY(capture);
    CapturedAttention& captured = **capture;
    if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "cancelled");
    const char* const stage = "comparing dense attention with HiP's mask";
    if (progress) progress({stage, 0, 1});

    const int32_t layer = options.layer;
    backend::AttentionParams params = model.attentionParams();
    params.config = &config;
    attention::Rope rope(params.rope);
    rope.prepare(std::max(length, attention::ropePositionsNeeded(config, length)));
    ThreadPool pool(evaluationThreads(state));
    const attention::PruningContext context{captured.keys(), layer, params, config, rope};

    std::vector<MaskedBlock> blocks(size_t((length - firstCaptured + block - 1) / block));
    pool.parallelFor(int64_t(blocks.size()), [&](int64_t b, int) {
        MaskedBlock& masked = blocks[size_t(b)];
        masked.firstPosition = firstCaptured + b * block;
        masked.rows = std::min(block, length - masked.firstPosition);
        const attention::QueryBlock query{
            captured.queries(layer, size_t(masked.firstPosition - firstCaptured), masked.rows),
            masked.firstPosition};
        const BlockMask mask = hipMask(context, query);
        for (const attention::ChunkList& ranges : mask.heads)
            masked.selected.push_back(positionsIn(ranges));
    });

    WindowReport report;
    report.firstQuery = firstQuery;
    report.keys = length;
    const int64_t rows = report.rows();
    report.probabilities.assign(size_t(rows * length), 0.0f);
    report.attended.assign(size_t(rows * length), 0);

    const RotatedKeys keys(captured.keys(), layer, length, rope, pool);
    const backend::Act queries =
        captured.queries(layer, size_t(firstQuery - firstCaptured), options.queryTokens);
    const int32_t firstHead = options.head < 0 ? 0 : options.head;
    const int32_t endHead = options.head < 0 ? params.heads : options.head + 1;
    const float weight = 1.0f / float(endHead - firstHead);
    std::vector<float> logits, scratch;
    std::vector<uint8_t> headAttended(static_cast<size_t>(length));
    double recall = 0;
    for (int32_t head = firstHead; head < endHead; ++head) {
        if (cancel.isCancelled()) return makeError(ErrorCode::Cancelled, "cancelled");
        denseLogits(queries, firstQuery, head, keys, params, rope, length, logits, scratch);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t position = firstQuery + r;
            float* p = logits.data() + r * length;
            softmax(p, position + 1);
            const MaskedBlock& masked = blocks[size_t((position - firstCaptured) / block)];
            std::fill(headAttended.begin(), headAttended.end(), uint8_t(0));
            markAttended(masked.forHead(head), position, config, headAttended.data());

            float* probabilities = report.probabilities.data() + r * length;
            uint8_t* attended = report.attended.data() + r * length;
            double kept = 0;
            for (int64_t k = 0; k <= position; ++k) {
                probabilities[k] += weight * p[k];
                attended[k] |= headAttended[size_t(k)];
                if (headAttended[size_t(k)]) kept += p[k];
            }
            recall += weight * kept;
        }
    }
    report.hipRecall = recall / double(rows);
    if (progress) progress({stage, 1, 1});
    return report;
}

} // namespace hip::eval
