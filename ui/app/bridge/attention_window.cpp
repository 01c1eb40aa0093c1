#include "bridge/attention_window.h"

namespace hip::ui {

// The engine captures queries and keys for its own evaluations (engine/eval) but offers no public
// call returning per-query dense probabilities and HiP's mask for a window. When it does, this
// function forwards to it; until then the view explains what is missing.
hip::Result<AttentionWindow> measureAttentionWindow(hip::Engine&, const AttentionWindowRequest&,
                                                    const hip::ProgressCallback&,
                                                    const hip::CancelToken&) {
    return hip::makeError(hip::ErrorCode::Unsupported,
                          "This engine does not report per-query attention scores yet, so the "
                          "dense-versus-HiP window cannot be computed");
}

} // namespace hip::ui
