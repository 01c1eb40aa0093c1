#pragma once
// How many document tokens a session's context can take. Session::ingest keeps room for a
// question and its answer after the document and refuses a longer one; the GUI needs the same
// number up front, for the context meter and to offer reading the pages that fit.

#include <algorithm>
#include <cstdint>

namespace hip::ui {

// Mirrors the reserve in Session::ingest (min(1024, capacity / 8)) plus the few tokens of the
// chat template and the document's header line. The engine stays the judge: if it still refuses,
// its message is shown.
inline int64_t documentTokenBudget(int64_t contextTokens) {
    constexpr int64_t kHeaderTokens = 64;
    const int64_t reserve = std::min<int64_t>(1024, contextTokens / 8);
    return std::max<int64_t>(0, contextTokens - reserve - kHeaderTokens);
}

} // namespace hip::ui
