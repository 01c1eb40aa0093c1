#pragma once
// What attention looked at while a session generated: the key ranges HiP selected in each layer
// for each generated token, and how often each key position was selected.

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
};

} // namespace hip
