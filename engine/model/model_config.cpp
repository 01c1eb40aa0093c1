#include "model/model_config.h"

#include "gguf/gguf_file.h"

#include <cmath>
#include <sstream>

namespace hip::model {
namespace {

Status invalid(const std::string& message) {
    return makeError(ErrorCode::InvalidFile, message);
}

// Reads an integer hyperparameter that must lie in [minimum, maximum].
Result<int64_t> readDimension(const gguf::GgufFile& file, const std::string& key, int64_t minimum,
                              int64_t maximum) {
    auto value = file.getUInt(key);
    if (!value) return value.status();
    if (int64_t(*value) < minimum || *value > uint64_t(maximum)) {
        std::ostringstream message;
        message << key << " is " << *value << ", expected " << minimum << ".." << maximum;
        return invalid(message.str());
    }
    return int64_t(*value);
}

} // namespace

backend::AttentionParams ModelConfig::attentionParams() const {
    backend::AttentionParams params;
    params.heads = heads;
    params.kvHeads = kvHeads;
    params.headDim = headDim;
    params.scale = 1.0f / std::sqrt(float(headDim));
    params.rope = rope;
    return params;
}

Result<ModelConfig> readModelConfig(const gguf::GgufFile& file) {
    auto arch = file.getString("general.architecture");
    if (!arch) return arch.status();
    ModelConfig config;
    config.architectureName = *arch;
    if (*arch == "llama") {
        config.architecture = Architecture::Llama;
    } else if (*arch == "qwen2") {
        config.architecture = Architecture::Qwen2;
    } else {
        return makeError(ErrorCode::Unsupported,
                         "architecture '" + *arch +
                             "' is not supported (supported: llama, qwen2, which covers Llama 2/3, "
                             "Mistral, SmolLM2 and Qwen2/2.5)");
    }
    const std::string p = *arch + ".";

    auto layers = readDimension(file, p + "block_count", 1, 1024);
    auto embedding = readDimension(file, p + "embedding_length", 1, 1 << 16);
    auto ffn = readDimension(file, p + "feed_forward_length", 1, 1 << 20);
    auto heads = readDimension(file, p + "attention.head_count", 1, 1024);
    auto context = readDimension(file, p + "context_length", 1, int64_t(1) << 32);
    for (const Status& s :
         {layers.status(), embedding.status(), ffn.status(), heads.status(), context.status()})
        HIP_TRY(s);
    config.layers = int32_t(*layers);
    config.embeddingLength = int32_t(*embedding);
    config.feedForwardLength = int32_t(*ffn);
    config.heads = int32_t(*heads);
    config.contextLength = *context;

    auto kvHeads = file.getUInt(p + "attention.head_count_kv", uint64_t(config.heads));
    HIP_TRY(kvHeads);
    if (*kvHeads == 0 || *kvHeads > uint64_t(config.heads) || config.heads % *kvHeads != 0)
        return invalid(p + "attention.head_count_kv is " + std::to_string(*kvHeads) +
                       ", which does not divide the " + std::to_string(config.heads) +
                       " query heads");
    config.kvHeads = int32_t(*kvHeads);

    auto keyLength =
        file.getUInt(p + "attention.key_length", uint64_t(config.embeddingLength / config.heads));
    HIP_TRY(keyLength);
    auto valueLength = file.getUInt(p + "attention.value_length", *keyLength);
    HIP_TRY(valueLength);
    if (*keyLength != *valueLength || *keyLength == 0 || *keyLength > 1024 || *keyLength % 2)
        return makeError(ErrorCode::Unsupported,
                         "head sizes key " + std::to_string(*keyLength) + " / value " +
                             std::to_string(*valueLength) +
                             " are not supported (equal, even, at most 1024)");
    config.headDim = int32_t(*keyLength);

    auto eps = file.getFloat(p + "attention.layer_norm_rms_epsilon");
    HIP_TRY(eps);
    if (!(*eps > 0 && *eps < 1))
        return invalid(p + "attention.layer_norm_rms_epsilon is out of range");
    config.rmsEps = float(*eps);

    auto ropeDims = file.getUInt(p + "rope.dimension_count", uint64_t(config.headDim));
    HIP_TRY(ropeDims);
    if (*ropeDims == 0 || *ropeDims > uint64_t(config.headDim) || *ropeDims % 2)
        return invalid(p + "rope.dimension_count is " + std::to_string(*ropeDims) +
                       ", expected an even number up to the head size " +
                       std::to_string(config.headDim));
    config.rope.dims = int32_t(*ropeDims);
    auto base = file.getFloat(p + "rope.freq_base", 10000.0);
    HIP_TRY(base);
    if (!(*base > 1)) return invalid(p + "rope.freq_base must be greater than 1");
    config.rope.freqBase = float(*base);
    config.rope.neox = config.architecture == Architecture::Qwen2;

    // Linear scaling: either rope.scaling.type = linear with a factor, or the legacy scale_linear.
    auto scalingType = file.getString(p + "rope.scaling.type", "none");
    HIP_TRY(scalingType);
    auto legacyScale = file.getFloat(p + "rope.scale_linear", 1.0);
    HIP_TRY(legacyScale);
    config.ropeScalingDescription = "none";
    if (*scalingType == "linear" || *legacyScale != 1.0) {
        double factor = *legacyScale;
        if (*scalingType == "linear") {
            auto f = file.getFloat(p + "rope.scaling.factor");
            HIP_TRY(f);
            factor = *f;
        }
        if (!(factor >= 1.0)) return invalid(p + "rope.scaling.factor must be at least 1");
        config.rope.positionScale = float(1.0 / factor);
        std::ostringstream d;
        d << "linear x" << factor;
        config.ropeScalingDescription = d.str();
    } else if (*scalingType != "none") {
        return makeError(ErrorCode::Unsupported,
                         "rope scaling '" + *scalingType + "' is not supported (none, linear)");
    }

    const gguf::Value* vocab = file.find("tokenizer.ggml.tokens");
    if (!vocab || vocab->type != gguf::ValueType::Array || vocab->items.empty())
        return invalid("tokenizer.ggml.tokens is missing or empty");
    config.vocabSize = int32_t(vocab->items.size());
    return config;
}

} // namespace hip::model
