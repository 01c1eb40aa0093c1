#include "hip/context_plan.h"

#include "runtime/engine_state.h"

#include <algorithm>

namespace hip {
namespace {

// Planned contexts are whole multiples of this: a tidy number, and a little more room.
constexpr int64_t kContextGranule = 1024;

} // namespace

int64_t contextForDocument(int64_t documentTokens) {
    const int64_t needed = documentTokens + kDocumentHeaderTokens + kConversationTokens;
    return (needed + kContextGranule - 1) / kContextGranule * kContextGranule;
}

bool documentFits(int64_t documentTokens, int64_t contextTokens) {
    return documentTokens + kDocumentHeaderTokens <= documentTokenBudget(contextTokens);
}

ContextPlan planContext(const ContextRequest& request) {
    ContextPlan plan;
    plan.attention = request.attention;
    const int64_t asked =
        request.contextTokens > 0 ? request.contextTokens : request.trainedContext;
    plan.contextTokens = asked;
    const bool dense = request.attention.mode == AttentionConfig::Mode::Dense;
    if (request.contextTokens > 0) {
        // The user's context stays; past the trained context it needs HiP unless they chose.
        if (!request.attentionChosen && dense && asked > request.trainedContext)
            plan.attention = *AttentionConfig::preset(kLongDocumentPreset);
    } else if (!documentFits(request.documentTokens, asked) &&
               !(request.attentionChosen && dense)) {
        if (dense) plan.attention = *AttentionConfig::preset(kLongDocumentPreset);
        const int64_t within = request.memoryTokens / kContextGranule * kContextGranule;
        plan.contextTokens =
            std::max(asked, std::min(contextForDocument(request.documentTokens), within));
    }
    plan.wholeDocument = documentFits(request.documentTokens, plan.contextTokens);
    return plan;
}

} // namespace hip
