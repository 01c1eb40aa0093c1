#pragma once
// What attention looked at while a session answered: the key ranges HiP selected in each layer
// for each generated token, how often each key position was selected, and the attention mass
// the answer's and the question's tokens put on each position.

#include <cstdint>
#include <vector>

namespace hip {

struct KeyRange {
    int64_t begin = 0; // first key position
    int64_t end = 0;   // one past the last
    friend bool operator==(const KeyRange&, const KeyRange&) = default;
};

struct TokenAttention {
    int64_t position = 0; // position of the query (the token being generated)
    // Per layer: the key ranges selected by pruning (union over heads; sinks and the sliding
    // window are always attended and not listed). Empty for layers that ran dense.
    std::vector<std::vector<KeyRange>> layers;
};

struct AttentionTrace {
    std::vector<TokenAttention> tokens; // one per generated token, in order
    // hitCounts[p]: how many (token, layer) selections included key position p.
    std::vector<uint32_t> hitCounts;
    // mass[p]: attention probability that fell on key position p, summed over generated tokens
    // and layers and averaged over heads (each token and layer distributes 1 in total). Filled
    // in dense and HiP mode alike; this is what "the pages the answer attended to" are made of.
    std::vector<float> mass;
    // questionMass[p]: the exact attention probability that the question's own tokens (the last
    // user turn, from its text to the end of the prompt) gave key position p, summed over those
    // tokens and layers and averaged over heads, dense whatever the attention mode. What the
    // question looks up, whatever the answer then says. Empty for prompts without a question
    // (Session::complete).
    std::vector<float> questionMass;
};

} // namespace hip
