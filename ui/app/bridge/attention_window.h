#pragma once
// Exact (dense) attention scores over a short window of the text, beside the keys HiP selects for
// the same queries: the third attention view. The engine computes both from the model's real
// queries and keys (hip::eval::measureWindow); this adapts the view's request to it.

#include <hip/attention_config.h>
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
    int64_t keyTokens = 512;  // keys (and context) of the window; fewer when the text is shorter
    int64_t queryTokens = 32; // the last tokens of the window act as queries
    int32_t layer = 0;
    int32_t head = -1; // -1: averaged over heads
    // The HiP configuration to show; dense (the default) means the engine's own, or hip-3k when
    // the engine runs dense. It is scaled to the window when it would attend every key there
    // (see windowAttention).
    hip::AttentionConfig attention;
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
    double recall = 0; // the share of the dense attention on HiP's keys, mean over query rows
    hip::AttentionConfig attention; // the configuration whose mask `hip` is
    bool scaled = false;            // it was scaled down to the window
    int64_t rows() const { return keyTokens - queryBegin; }
};
using AttentionWindowPtr = std::shared_ptr<const AttentionWindow>;

// HiP as a window of `keyTokens` keys shows it. A window of a few hundred tokens is shorter than
// the sinks, the sliding window and the budget of any preset, and there HiP attends every key:
// when those cover more than half of the window, every token count of the configuration (sinks,
// window, kept tokens) is scaled down by one factor until they cover about half, so that the
// selection shows. Chunk sizes and query blocks are kept. `scaled` says whether it was.
hip::AttentionConfig windowAttention(hip::AttentionConfig config, int64_t keyTokens, int32_t layer,
                                     bool* scaled = nullptr);

// Runs on the engine thread.
hip::Result<AttentionWindow> measureAttentionWindow(hip::Engine& engine,
                                                    const AttentionWindowRequest& request,
                                                    const hip::ProgressCallback& progress,
                                                    const hip::CancelToken& cancel);

} // namespace hip::ui

Q_DECLARE_METATYPE(hip::ui::AttentionWindowPtr)
