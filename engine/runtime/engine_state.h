#pragma once
// What a loaded Engine owns, shared with its Sessions (internal to the engine).

#include "backend/backend.h"
#include "gguf/gguf_file.h"
#include "hip/engine.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <memory>
#include <mutex>

namespace hip {

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
