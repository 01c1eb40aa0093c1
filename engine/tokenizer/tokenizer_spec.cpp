// tokenizerSpecFromGguf: the tokenizer.ggml.* metadata of a GGUF file, checked for consistency.

#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace hip::tok {
namespace {

Status invalid(std::string_view key, const std::string& problem) {
    return makeError(ErrorCode::InvalidFile, std::string(key) + ": " + problem);
}

// A required key: missing is a damaged tokenizer, not a lookup miss.
template <typename T> Result<T> required(Result<T> value, std::string_view key) {
    if (!value && value.status().code() == ErrorCode::NotFound)
        return invalid(key, "missing (required for the tokenizer)");
    return value;
}

Status checkLength(std::string_view key, size_t length, size_t tokenCount) {
    if (length == tokenCount) return Status::ok();
    return invalid(key, std::to_string(length) + " entries for " + std::to_string(tokenCount) +
                            " tokens (tokenizer.ggml.tokens)");
}

} // namespace

Result<TokenizerSpec> tokenizerSpecFromGguf(const gguf::GgufFile& file) {
    TokenizerSpec spec;

    auto model = required(file.getString("tokenizer.ggml.model"), "tokenizer.ggml.model");
    HIP_TRY(model);
    spec.model = std::move(*model);
    auto pre = file.getString("tokenizer.ggml.pre", "");
    HIP_TRY(pre);
    spec.pre = std::move(*pre);

    auto tokens = required(file.getStringArray("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens");
    HIP_TRY(tokens);
    spec.tokens = std::move(*tokens);
    const size_t count = spec.tokens.size();
    if (count == 0) return invalid("tokenizer.ggml.tokens", "empty");

    if (file.contains("tokenizer.ggml.scores")) {
        auto scores = file.getFloatArray("tokenizer.ggml.scores");
        HIP_TRY(scores);
        HIP_TRY(checkLength("tokenizer.ggml.scores", scores->size(), count));
        spec.scores = std::move(*scores);
    }

    if (file.contains("tokenizer.ggml.token_type")) {
        auto types = file.getIntArray("tokenizer.ggml.token_type");
        HIP_TRY(types);
        HIP_TRY(checkLength("tokenizer.ggml.token_type", types->size(), count));
        spec.types.reserve(count);
        for (size_t id = 0; id < count; ++id) {
            const int64_t type = (*types)[id];
            if (type < static_cast<int64_t>(TokenType::Undefined) ||
                type > static_cast<int64_t>(TokenType::Byte))
                return invalid("tokenizer.ggml.token_type", "token " + std::to_string(id) +
                                                                " has unknown type " +
                                                                std::to_string(type));
            spec.types.push_back(static_cast<TokenType>(type));
        }
    }

    if (spec.model == "gpt2") {
        auto merges =
            required(file.getStringArray("tokenizer.ggml.merges"), "tokenizer.ggml.merges");
        HIP_TRY(merges);
        spec.merges = std::move(*merges);
    }

    const std::pair<std::string_view, TokenId*> ids[] = {
        {"tokenizer.ggml.bos_token_id", &spec.bos},
        {"tokenizer.ggml.eos_token_id", &spec.eos},
        {"tokenizer.ggml.eot_token_id", &spec.eot},
        {"tokenizer.ggml.eom_token_id", &spec.eom},
        {"tokenizer.ggml.unknown_token_id", &spec.unk},
        {"tokenizer.ggml.padding_token_id", &spec.pad},
    };
    for (const auto& [key, target] : ids) {
        if (!file.contains(key)) continue;
        auto id = file.getInt(key);
        HIP_TRY(id);
        if (*id < 0 || *id >= static_cast<int64_t>(count))
            return invalid(key, "token id " + std::to_string(*id) +
                                    " is outside the vocabulary of " + std::to_string(count));
        *target = static_cast<TokenId>(*id);
    }

    const std::pair<std::string_view, std::optional<bool>*> flags[] = {
        {"tokenizer.ggml.add_bos_token", &spec.addBos},
        {"tokenizer.ggml.add_eos_token", &spec.addEos},
        {"tokenizer.ggml.add_space_prefix", &spec.addSpacePrefix},
    };
    for (const auto& [key, target] : flags) {
        if (!file.contains(key)) continue;
        auto flag = file.getBool(key);
        HIP_TRY(flag);
        *target = *flag;
    }
    return spec;
}

} // namespace hip::tok
