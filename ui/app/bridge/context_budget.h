#pragma once
// How many tokens of a document's text a session's context can take. The engine says how many
// tokens the document's system turn may take (Engine::documentTokenBudget: the context less room
// for a question and its answer) and refuses a longer one; the GUI counts the text alone (for the
// context meter, and to offer reading the pages that fit), so the few tokens of the chat template
// and the document's header line come off the engine's budget here.

#include <algorithm>
#include <cstdint>

namespace hip::ui {

// The text's share of Engine::documentTokenBudget(). The engine stays the judge: if it still
// refuses (a very long title), its message is shown.
inline int64_t documentTextBudget(int64_t documentTokenBudget) {
    constexpr int64_t kHeaderTokens = 64;
    return std::max<int64_t>(0, documentTokenBudget - kHeaderTokens);
}

} // namespace hip::ui
