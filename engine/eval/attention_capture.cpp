#include "eval/attention_capture.h"

#include "hip/session.h"

#include <algorithm>
#include <cstring>

namespace hip::eval {

CapturedAttention::CapturedAttention(const model::ModelConfig& config, int64_t tokens,
                                     std::vector<int64_t> queryPositions)
    : keys_(config.layers, config.kvHeads, config.headDim, tokens),
      positions_(std::move(queryPositions)), queryFloats_(int64_t(config.heads) * config.headDim),
      queries_(size_t(config.layers),
               std::vector<float>(positions_.size() * size_t(queryFloats_))) {}

backend::Act CapturedAttention::queries(int32_t layer, size_t first, int64_t count) {
    float* data = queries_[size_t(layer)].data() + first * size_t(queryFloats_);
    return {data, count, queryFloats_, queryFloats_};
}

void CapturedAttention::observe(int32_t layer, int64_t start, backend::Act q, backend::Act k) {
    const size_t keyBytes = sizeof(float) * size_t(keys_.rowFloats());
    for (int64_t r = 0; r < k.rows; ++r)
        std::memcpy(keys_.keys(layer, start + r), k.row(r), keyBytes);
    // The captured positions that fall in this forward pass.
    const auto begin = std::lower_bound(positions_.begin(), positions_.end(), start);
    const auto end = std::lower_bound(begin, positions_.end(), start + q.rows);
    for (auto it = begin; it != end; ++it)
        std::memcpy(queries(layer, size_t(it - positions_.begin()), 1).data, q.row(*it - start),
                    sizeof(float) * size_t(queryFloats_));
}

Result<std::unique_ptr<CapturedAttention>> captureAttention(Engine& engine,
                                                            const std::vector<int32_t>& tokens,
                                                            std::vector<int64_t> queryPositions,
                                                            const ProgressCallback& progress,
                                                            const CancelToken& cancel) {
    EngineState& state = engineState(engine);
    if (state.options.device != Device::Cpu)
        return makeError(ErrorCode::Unsupported,
                         "reading the model's queries and keys needs the CPU backend");
    const int64_t count = int64_t(tokens.size());
    if (!queryPositions.empty() && (queryPositions.front() < 0 || queryPositions.back() >= count))
        return makeError(ErrorCode::InvalidArgument, "query positions lie outside the text");
    model::Transformer& model = *state.transformer;
    auto capture =
        std::make_unique<CapturedAttention>(model.config(), count, std::move(queryPositions));
    HIP_TRY(capture->keys_.reserve(count));

    AttentionScope scope(engine);
    HIP_TRY(scope.use(AttentionConfig{}));
    auto session = engine.newSession();
    model.setObserver([&](int32_t layer, int64_t start, backend::Act q, backend::Act k) {
        capture->observe(layer, start, q, k);
    });
    auto logits = session->evaluate(tokens, false, cancel, [&](const Progress& p) {
        if (progress) progress({"reading the text densely", p.done, p.total});
    });
    model.setObserver({});
    HIP_TRY(logits);
    capture->keys_.setTokens(count);
    return capture;
}

} // namespace hip::eval
