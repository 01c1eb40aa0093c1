#pragma once
// Exact (dense) attention scores over a short window of the text, beside the keys HiP selects for
// the same queries: the third attention view. The engine's public API does not expose per-query
// scores yet, so this is the one seam the engine has to fill (see measureAttentionWindow); the
// view, the request and the PNG export are built against it.

#include <hip/cancel.h>
#include <hip/engine.h>
#include <hip/status.h>

#include <QMetaType>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hip::ui {

struct AttentionWindowRequest {
    std::string text;         // the window is the first `keyTokens` tokens of this text
    int64_t keyTokens = 512;  // keys (and context) of the window
    int64_t queryTokens = 32; // the last tokens of the window act as queries
    int32_t layer = 0;
    int32_t head = -1; // -1: averaged over heads
};

struct AttentionWindow {
    int32_t layer = 0;
    int32_t head = -1;
    int64_t keyTokens = 0;
    int64_t queryBegin = 0; // key position of the first query row
    // rows = keyTokens - queryBegin, columns = keyTokens, row-major. `dense` holds softmax
    // probabilities at true positions (causal: zero right of the diagonal); `hip` is 1 where
    // HiP's mask (sinks and window included) attends.
    std::vector<float> dense;
    std::vector<uint8_t> hip;
    int64_t rows() const { return keyTokens - queryBegin; }
};
using AttentionWindowPtr = std::shared_ptr<const AttentionWindow>;

// Runs on the engine thread. Returns ErrorCode::Unsupported until the engine offers the scores.
hip::Result<AttentionWindow> measureAttentionWindow(hip::Engine& engine,
                                                    const AttentionWindowRequest& request,
                                                    const hip::ProgressCallback& progress,
                                                    const hip::CancelToken& cancel);

} // namespace hip::ui

Q_DECLARE_METATYPE(hip::ui::AttentionWindowPtr)
