#pragma once
// What a loaded (or inspected) model is: shown by `hipreader-cli info` and the settings dialog.

#include <cstdint>
#include <map>
#include <string>

namespace hip {

struct TensorTypeUsage {
    int64_t tensors = 0;
    int64_t elements = 0;
    uint64_t bytes = 0;
};

struct ModelInfo {
    std::string path;
    std::string name;         // general.name, or the file name
    std::string architecture; // "llama", "qwen2"
    int64_t layers = 0;
    int64_t embeddingLength = 0;
    int64_t feedForwardLength = 0;
    int64_t heads = 0;
    int64_t kvHeads = 0;
    int64_t headDim = 0;
    int64_t vocabSize = 0;
    int64_t contextLength = 0; // trained context
    double ropeFreqBase = 0;
    std::string ropeScaling; // "none", "linear x4", "llama3 (rope_freqs)"
    bool tiedEmbeddings = false;
    int64_t parameters = 0;
    uint64_t fileBytes = 0;
    uint64_t kvBytesPerToken = 0;                       // at the engine's KV storage precision
    std::string tokenizer;                              // "gpt2/smollm", "llama (SentencePiece)"
    std::string chatFormat;                             // "ChatML", "Llama 3", ...
    std::map<std::string, TensorTypeUsage> tensorTypes; // "Q4_1" -> usage
};

} // namespace hip
