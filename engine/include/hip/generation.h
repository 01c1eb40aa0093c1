#pragma once
// Options and results of text generation.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hip {

struct SamplerOptions {
    float temperature = 0.0f;       // 0 = greedy
    int32_t topK = 40;              // 0 = off
    float topP = 0.95f;             // 1 = off
    float minP = 0.05f;             // 0 = off
    float repetitionPenalty = 1.0f; // 1 = off; applied to the last `repetitionWindow` tokens
    int32_t repetitionWindow = 64;
    uint64_t seed = 0;
};

struct GenerateOptions {
    SamplerOptions sampler;
    int32_t maxTokens = 512;
};

// Receives each piece of answer text as soon as it is valid UTF-8. Return false to stop.
using TokenSink = std::function<bool(std::string_view piece)>;

enum class StopReason { EndOfTurn, MaxTokens, ContextFull, Cancelled, SinkStopped };

struct GenerationStats {
    int64_t promptTokens = 0; // tokens prefilled for this request (after prefix reuse)
    int64_t reusedTokens = 0; // tokens already in the KV cache
    int64_t generatedTokens = 0;
    double prefillSeconds = 0;
    double decodeSeconds = 0;
    double prefillTokensPerSecond() const {
        return prefillSeconds > 0 ? double(promptTokens) / prefillSeconds : 0;
    }
    double decodeTokensPerSecond() const {
        return decodeSeconds > 0 ? double(generatedTokens) / decodeSeconds : 0;
    }
};

struct Answer {
    std::string text;
    std::vector<int32_t> tokens;
    StopReason stopReason = StopReason::EndOfTurn;
    GenerationStats stats;
};

std::string_view stopReasonName(StopReason reason);

} // namespace hip
