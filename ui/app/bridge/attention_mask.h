#pragma once
// Takes HiP's selections in one layer out of an answer's trace, with what the mask view needs to
// draw them by page: the document's place in the context and where each page starts.

#include "bridge/bridge_types.h"

#include <hip/attention_config.h>
#include <hip/attention_trace.h>

namespace hip::ui {

struct MaskRequest {
    int layer = 0;
    int64_t contextTokens = 0; // key positions in the cache when the answer ended
    hip::AttentionConfig attention;
    hip::DenseCrossover crossover; // the engine's, for the configuration above
    int64_t documentBegin = 0;
    int64_t documentEnd = 0;
    std::vector<int64_t> pageStarts; // as doc::pageStartPositions gives them
    std::vector<QString> pageNames;
};

AttentionMask layerMask(const hip::AttentionTrace& trace, MaskRequest request);

} // namespace hip::ui
