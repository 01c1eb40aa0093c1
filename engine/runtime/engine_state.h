#pragma once
// What a loaded Engine owns, shared with its Sessions (internal to the engine).

#include "backend/backend.h"
#include "gguf/gguf_file.h"
#include "hip/engine.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <memory>
#include <mutex>

namespace hip {

// Tokens a document may take in a context of `contextTokens`: the rest is room for a question
// and its answer.
inline int64_t documentTokenBudget(int64_t contextTokens) {
    return contextTokens - std::min<int64_t>(1024, contextTokens / 8);
}

struct EngineState {
    explicit EngineState(gguf::GgufFile modelFile) : file(std::move(modelFile)) {}

    LoadOptions options;
    gguf::GgufFile file;
    model::ModelConfig config;
    ModelInfo info;
    std::unique_ptr<backend::Backend> backend;
    std::unique_ptr<model::Transformer> transformer;
    std::unique_ptr<tok::Tokenizer> tokenizer;
    tok::ChatTemplate chatTemplate;
    int64_t contextTokens = 0; // KV capacity of each session
    // Sessions share the backend's scratch memory: one forward pass at a time.
    std::mutex computeMutex;
    // KV memory of live sessions, for the memory report.
    std::mutex sessionsMutex;
    std::vector<const backend::KvCache*> liveCaches;
};

} // namespace hip
