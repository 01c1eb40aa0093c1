#pragma once
// Rasterizes HiP's selections in one layer of an answer's trace into the query-by-key-block grid
// the mask view draws.

#include "bridge/bridge_types.h"

#include <hip/attention_config.h>
#include <hip/attention_trace.h>

namespace hip::ui {

struct MaskRequest {
    int layer = 0;
    int keyBins = 256;         // columns; fewer when the context is shorter
    int64_t contextTokens = 0; // key positions in the cache when the answer ended
    hip::AttentionConfig attention;
    int64_t documentBegin = 0;
    int64_t documentEnd = 0;
};

AttentionMask rasterizeMask(const hip::AttentionTrace& trace, const MaskRequest& request);

} // namespace hip::ui
