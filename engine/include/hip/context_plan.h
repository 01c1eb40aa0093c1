#pragma once
// Which attention and context a document gets: the one policy the app and the CLI share. A
// document that fits the context the load asks for is read as asked. A longer one gets HiP
// attention over a context long enough for the document and a conversation, as far as memory
// allows. What the user chose explicitly stays: a context, or an attention (dense attention stays
// within the model's trained context, past which a model that was not trained for it degrades).

#include "hip/attention_config.h"
#include "hip/memory_report.h"

#include <cstdint>
#include <limits>

namespace hip {

// Tokens of a document's system turn besides its text: the line naming the document and the chat
// template's markers (Session::ingest counts them with the text).
inline constexpr int64_t kDocumentHeaderTokens = 64;
// Room a planned context leaves after the document: the question and answer that
// Engine::documentTokenBudget keeps free, and a few earlier exchanges.
inline constexpr int64_t kConversationTokens = 4096;
// The preset a document past the trained context gets when the user chose no attention.
inline constexpr const char* kLongDocumentPreset = "hip-3k";

struct ContextRequest {
    int64_t documentTokens = 0; // the document's text, as Engine::countTokens counts it
    int64_t trainedContext = 0; // ModelInfo::contextLength
    // The longest context memory holds (MemoryEstimate::maxContextTokens).
    int64_t memoryTokens = std::numeric_limits<int64_t>::max();
    AttentionConfig attention;    // what the load options say
    bool attentionChosen = false; // the user chose `attention`: it stays
    int64_t contextTokens = 0;    // the user's context; 0 = the plan's choice
};

struct ContextPlan {
    AttentionConfig attention;
    int64_t contextTokens = 0;
    bool wholeDocument = true; // false: only the start fits (memory, or the user's choice)
    MemoryEstimate estimate;   // for the planned options (Engine::planContext fills it)
};

// The context that holds `documentTokens` of text whole with room for a conversation.
int64_t contextForDocument(int64_t documentTokens);
// Whether a context of `contextTokens` holds `documentTokens` of text whole.
bool documentFits(int64_t documentTokens, int64_t contextTokens);

ContextPlan planContext(const ContextRequest& request);

} // namespace hip
