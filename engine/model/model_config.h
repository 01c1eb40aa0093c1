#pragma once
// The hyperparameters of a Llama-family model, read and checked from GGUF metadata.

#include "backend/backend.h"
#include "hip/status.h"

#include <cstdint>
#include <string>

namespace hip::gguf {
class GgufFile;
}

namespace hip::model {

enum class Architecture { Llama, Qwen2 };

struct ModelConfig {
    Architecture architecture = Architecture::Llama;
    std::string architectureName; // as in general.architecture
    int32_t layers = 0;
    int32_t embeddingLength = 0;
    int32_t feedForwardLength = 0;
    int32_t heads = 0;
    int32_t kvHeads = 0;
    int32_t headDim = 0;
    int32_t vocabSize = 0;
    int64_t contextLength = 0; // trained context
    float rmsEps = 1e-5f;
    backend::RopeParams rope; // freqFactors filled by the weights loader (rope_freqs.weight)
    std::string ropeScalingDescription;

    backend::AttentionParams attentionParams() const;
};

Result<ModelConfig> readModelConfig(const gguf::GgufFile& file);

} // namespace hip::model
