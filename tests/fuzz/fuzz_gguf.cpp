// GGUF reader: header, metadata and tensor table of arbitrary bytes; then, for a file that passed
// validation, everything a load reads from it (hyperparameters, tokenizer, chat template) and one
// forward step of the model on the CPU.

#include "fuzz_target.h"

#include "backend/cpu/cpu_backend.h"
#include "gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <hip/attention_config.h>
#include <hip/cancel.h>

namespace {

// Keeps one execution cheap: the forward step runs only for models of tiny shapes (the seeds are
// tiny models). Larger shapes are still validated above, which is what a hostile file reaches.
constexpr int64_t kMaxForwardWidth = 1024;
constexpr int32_t kMaxForwardLayers = 8;

void forwardOneToken(const hip::gguf::GgufFile& file, const hip::model::ModelConfig& config) {
    if (config.embeddingLength > kMaxForwardWidth ||
        config.feedForwardLength > 4 * kMaxForwardWidth || config.layers > kMaxForwardLayers ||
        config.vocabSize > 64 * kMaxForwardWidth)
        return;
    static const std::unique_ptr<hip::backend::Backend> backend = hip::backend::createCpuBackend(1);
    const hip::CancelToken cancel;
    auto transformer = hip::model::Transformer::create(file, config, *backend, 2, 4,
                                                       hip::AttentionConfig{}, {}, cancel);
    if (!transformer) return;
    auto cache = backend->createKvCache({config.layers, config.kvHeads, config.headDim, 4});
    if (!cache) return;
    std::vector<float> logits;
    const std::vector<int32_t> tokens{0, config.vocabSize - 1};
    (void)(*transformer)->forward(tokens, 0, **cache, false, logits, cancel);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto file = hip::gguf::GgufFile::fromBytes({data, size}, "fuzz.gguf");
    if (!file) return 0;
    for (const auto& [key, value] : file->metadata())
        (void)value.toDisplayString();
    for (const hip::gguf::TensorInfo& tensor : file->tensors())
        (void)tensor.shapeString();

    if (auto spec = hip::tok::tokenizerSpecFromGguf(*file)) {
        if (auto tokenizer = hip::tok::Tokenizer::create(*spec)) {
            const hip::tok::Encoding encoding =
                (*tokenizer)->encode("Hello, world! <|im_start|>", {true, true});
            (void)(*tokenizer)->decode(encoding.ids, true);
        }
    }
    (void)hip::tok::ChatTemplate::detect(file->getString("tokenizer.chat_template", "").value());

    auto config = hip::model::readModelConfig(*file);
    if (!config) return 0;
    forwardOneToken(*file, *config);
    return 0;
}
