#pragma once
// How much of dense attention's quality HiP keeps, measured on a loaded model (issue 3, the
// `hipreader-cli eval` commands). Each evaluation switches the engine's attention as it needs
// and restores it before returning; none may run while another session of the engine computes.
//
// - recall: the share of exact attention probability that lands on the keys HiP attends, per
//   layer, against an oracle, StreamingLLM and random blocks of the same budget.
// - perplexity: dense against HiP on a long text.
// - passkey: a number hidden in filler text at several depths and lengths; is it found?
// - locality: the spread of score differences s_i - s_j against key distance |i - j|, the
//   statistic HiP's pruning rests on.
// - window: for the last queries of a short context, every exact attention probability beside
//   the keys HiP attends (what the app's "Dense vs HiP" view draws).
//
// Recall, locality and window read the model's real queries and keys, which needs the CPU
// backend.

#include "hip/attention_config.h"
#include "hip/cancel.h"
#include "hip/engine.h"
#include "hip/status.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace hip::eval {

// The long public-domain text the evaluations read by default: Isaac Newton's "Opticks" (1730
// edition, Project Gutenberg eBook 33504), shipped as Go test data by the Debian package
// golang-1.19-src. Any plain text works instead.
extern const char* const kDefaultTextPath;

// ---------------------------------------------------------------------------------------------
// Recall of the attention mass.

struct RecallOptions {
    std::string text;             // read densely through the model (must give contextTokens)
    AttentionConfig attention;    // the HiP configuration whose masks are measured
    int64_t contextTokens = 8192; // the sampled queries see about this many keys
    // Query blocks sampled, evenly spread over the last quarter of the context (the last block
    // always included); every row of a block counts.
    int32_t samples = 8;
    uint64_t seed = 1; // for the random-blocks baseline
};

// Mean shares of the dense attention probability (a query's softmax over every key it can see,
// at true rope positions) that fall on each method's keys, averaged over query rows and heads.
// Every method attends the same sinks and sliding window plus, beyond them, as many keys as HiP
// selected for that query: HiP its real mask, the oracle the most probable keys (per row and
// head), random the same number of key blocks drawn uniformly from HiP's candidates. StreamingLLM
// attends the sinks and window only.
struct RecallShares {
    double hip = 0;
    double oracle = 0;
    double streaming = 0;
    double random = 0;
};

struct LayerRecall {
    int32_t layer = 0;
    RecallShares shares;
    double attendedKeys = 0; // mean keys attended per query row (sinks + window + selected)
    double visibleKeys = 0;  // mean keys a query row can see (its position + 1)
};

struct RecallReport {
    int64_t contextTokens = 0;
    int32_t samples = 0;
    int32_t rowsPerSample = 0; // the query block of the configuration
    std::vector<LayerRecall> layers;
    LayerRecall mean() const; // over layers; its `layer` is -1
};

Result<RecallReport> measureRecall(Engine& engine, const RecallOptions& options,
                                   const ProgressCallback& progress = {},
                                   const CancelToken& cancel = {});

// ---------------------------------------------------------------------------------------------
// Perplexity.

struct PerplexityOptions {
    std::string text;
    AttentionConfig attention; // HiP; its dense crossover is set to 0 so HiP really runs
    // Windows measured, each the first N tokens of the text. The model is causal, so one pass
    // over the longest window gives every shorter one.
    std::vector<int64_t> lengths = {2048, 4096, 8192};
};

struct PerplexityRow {
    int64_t tokens = 0;
    double dense = 0;     // over every predicted token of the window
    double hip = 0;       //
    double denseTail = 0; // over the second half of the window, where HiP prunes most
    double hipTail = 0;
};

struct PerplexityReport {
    std::vector<PerplexityRow> rows;
    double denseSeconds = 0; // the pass over the longest window
    double hipSeconds = 0;
};

Result<PerplexityReport> measurePerplexity(Engine& engine, const PerplexityOptions& options,
                                           const ProgressCallback& progress = {},
                                           const CancelToken& cancel = {});

// ---------------------------------------------------------------------------------------------
// Passkey retrieval.

struct PasskeyOptions {
    AttentionConfig attention; // HiP; its dense crossover is set to 0 so HiP really runs
    std::vector<int64_t> lengths = {1024, 2048, 4096};
    std::vector<double> depths = {0.1, 0.5, 0.9}; // where the key sits, as a share of the filler
    uint64_t seed = 1;                            // picks the five-digit keys
    // Dense attention is only asked up to this length: past the trained context it is the
    // baseline expected to fail, and on a CPU its quadratic prefill dominates the run.
    int64_t denseUpTo = std::numeric_limits<int64_t>::max();
};

// One prompt, asked once with dense attention and once with HiP (greedy answers).
struct PasskeyTrial {
    int64_t targetTokens = 0;
    int64_t promptTokens = 0; // as tokenized with the chat template
    double depth = 0;
    std::string key;
    std::string denseAnswer;
    std::string hipAnswer;
    bool denseRun = true;    // false past PasskeyOptions::denseUpTo
    bool denseFound = false; // the answer contains the key
    bool hipFound = false;
};

struct PasskeyReport {
    std::vector<PasskeyTrial> trials; // by length, then depth
};

// The engine's context must hold the longest prompt plus a short answer.
Result<PasskeyReport> measurePasskey(Engine& engine, const PasskeyOptions& options,
                                     const ProgressCallback& progress = {},
                                     const CancelToken& cancel = {});

// ---------------------------------------------------------------------------------------------
// Attention locality.

struct LocalityOptions {
    std::string text;
    int64_t contextTokens = 4096;
    int32_t samples = 16;   // query positions, evenly spread over the last quarter of the context
    int32_t sinkTokens = 4; // the first keys, left out: attention sinks score far above the rest
};

// sigma[layer][b]: the standard deviation of s_i - s_j (scaled attention logits of one query,
// keys at true rope positions) over key pairs whose distance |i - j| lies in
// [distances[b], 2 * distances[b]), pooled over the layer's heads and the sampled queries.
struct LocalityReport {
    int64_t contextTokens = 0;
    int32_t samples = 0;
    std::vector<int64_t> distances; // 1, 2, 4, ...
    std::vector<std::vector<double>> sigma;
    std::vector<double> meanSigma() const; // over layers, per distance bucket
};

Result<LocalityReport> measureLocality(Engine& engine, const LocalityOptions& options,
                                       const ProgressCallback& progress = {},
                                       const CancelToken& cancel = {});

// ---------------------------------------------------------------------------------------------
// One window of attention, dense beside HiP.

struct WindowOptions {
    std::string text;            // the context is its first contextTokens tokens
    int64_t contextTokens = 512; // keys of the window
    int32_t layer = 0;
    int32_t head = -1;        // a query head, or -1 for the mean over heads
    int64_t queryTokens = 32; // the last positions of the context are the query rows
    // The HiP configuration whose mask is shown; pruning is forced at this length, as in the
    // other evaluations.
    AttentionConfig attention;
};

// Row r is the query at position firstQuery + r; column k the key at position k. Like recall,
// queries and keys come from one dense pass over the context, and the masks from HiP's real
// estimation for the query block (on prefill's grid) that holds each row.
struct WindowReport {
    int64_t firstQuery = 0;
    int64_t keys = 0; // the context length
    // rows() x keys, row-major: dense softmax at true rope positions (0 right of the row's own
    // position), averaged over heads when the head is -1.
    std::vector<float> probabilities;
    // rows() x keys: 1 where HiP attends the key for that row, as block-sparse attention sees it
    // (attention::rowLayout): the sinks, the selected keys before the row's window, the window.
    // Per-head masks (the tree mode) are shown as their union when the head is -1.
    std::vector<uint8_t> attended;
    // The share of the dense probability on the keys HiP attends, mean over rows (and over heads
    // when the head is -1, each head counted on its own mask). With a mask shared by the heads it
    // is the mean over rows of the probabilities on attended keys.
    double hipRecall = 0;
    int64_t rows() const { return keys - firstQuery; }
};

Result<WindowReport> measureWindow(Engine& engine, const WindowOptions& options,
                                   const ProgressCallback& progress = {},
                                   const CancelToken& cancel = {});

} // namespace hip::eval
