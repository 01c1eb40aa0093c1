#pragma once
// From an answer's attention trace to what the GUI shows: the pages and passages attended to most
// (the answer's sources) and the heat of every page. Pure data, so the engine thread computes it
// and the GUI only draws it.

#include "bridge/bridge_types.h"

#include <hip/attention_trace.h>

namespace hip::ui {

AttentionSummary summarizeAttention(const doc::DocumentText& document,
                                    const doc::DocumentTokens& tokens,
                                    const hip::AttentionTrace& trace, int maxSources = 6);

// Per page, the share of the weights that fall on its text (summing to 1 over the document when
// any weight does).
std::vector<float> pageHeat(const doc::DocumentText& document, const doc::DocumentTokens& tokens,
                            const std::vector<float>& weights);

} // namespace hip::ui
