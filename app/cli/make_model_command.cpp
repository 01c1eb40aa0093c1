// hipreader-cli make-model: writes a GGUF model of a real architecture's shapes with random
// weights, so speed can be measured at real sizes without carrying weights (speed does not
// depend on the values). The output answers nonsense but loads and runs like the real model.

#include "cli_common.h"
#include "commands.h"

#include "common/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "quant/quantize.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cli {
namespace {

struct Shape {
    const char* name;
    int32_t layers, hidden, heads, kvHeads, headDim, ffn, vocab;
    int64_t context;
    float ropeBase;
    bool llama3Rope; // rope_freqs.weight with Llama 3.1's factors
};

const Shape kShapes[] = {
    {"llama3-8b", 32, 4096, 32, 8, 128, 14336, 128256, 131072, 500000.0f, true},
    {"smollm2-135m", 30, 576, 9, 3, 64, 1536, 49152, 8192, 100000.0f, false},
};

// Distinct random rows per tensor: rows are repeated from this pool, which keeps writing an
// 8B-sized file to seconds (Q4_K quantization runs at about 10M values/s per core).
constexpr int64_t kDistinctRows = 256;

// Llama 3.1's rope_freqs (convert_hf_to_gguf.py): factor 8, low 1, high 4, original context 8192.
std::vector<float> llama3RopeFactors(const Shape& s) {
    const double factor = 8.0, low = 1.0, high = 4.0, original = 8192.0;
    std::vector<float> factors;
    for (int32_t i = 0; i < s.headDim / 2; ++i) {
        const double frequency = std::pow(double(s.ropeBase), -2.0 * i / s.headDim);
        const double wavelength = 2.0 * M_PI / frequency;
        if (wavelength < original / high)
            factors.push_back(1.0f);
        else if (wavelength > original / low)
            factors.push_back(float(factor));
        else {
            const double smooth = (original / wavelength - low) / (high - low);
            factors.push_back(float(1.0 / ((1.0 - smooth) / factor + smooth)));
        }
    }
    return factors;
}

// A GPT-2-style byte-level vocabulary of `size` tokens: the Llama 3 control tokens, the 256 byte
// tokens and filler tokens that no text produces.
void addTokenizer(hip::gguf::GgufWriter& writer, int32_t size) {
    std::vector<std::string> tokens = {"<|begin_of_text|>", "<|end_of_text|>",
                                       "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    std::vector<int32_t> types(tokens.size(), 3); // control
    int32_t extra = 0x100;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        const int32_t codepoint = printable ? b : extra++;
        std::string utf8;
        if (codepoint < 0x80)
            utf8 = std::string(1, char(codepoint));
        else {
            utf8 += char(0xC0 | (codepoint >> 6));
            utf8 += char(0x80 | (codepoint & 0x3F));
        }
        tokens.push_back(utf8);
        types.push_back(1); // normal
    }
    while (int32_t(tokens.size()) < size) {
        tokens.push_back("<filler " + std::to_string(tokens.size()) + ">");
        types.push_back(1);
    }
    writer.setString("tokenizer.ggml.model", "gpt2");
    writer.setString("tokenizer.ggml.pre", "gpt2");
    writer.setStringArray("tokenizer.ggml.tokens", tokens);
    writer.setInt32Array("tokenizer.ggml.token_type", types);
    writer.setStringArray("tokenizer.ggml.merges", {});
    writer.setUInt32("tokenizer.ggml.bos_token_id", 0);
    writer.setUInt32("tokenizer.ggml.eos_token_id", 4);
    writer.setBool("tokenizer.ggml.add_bos_token", true);
    writer.setString("tokenizer.chat_template",
                     "{% for message in messages %}<|start_header_id|>{{ message['role'] }}"
                     "<|end_header_id|>\n\n{{ message['content'] }}<|eot_id|>{% endfor %}");
}

class TensorMaker {
public:
    TensorMaker(hip::gguf::GgufWriter& writer, hip::quant::GgmlType type, uint32_t seed)
        : writer_(writer), type_(type), random_(seed),
          pool_(int(std::max(1u, std::thread::hardware_concurrency()))) {}

    // A matrix of `rows` x `cols` values of standard deviation `scale`, in the model's type.
    void matrix(const std::string& name, int64_t cols, int64_t rows, float scale) {
        const uint64_t rowBytes = *hip::quant::rowBytes(type_, cols);
        const int64_t distinct = std::min(rows, kDistinctRows);
        std::vector<uint8_t> pool(rowBytes * uint64_t(distinct));
        const uint32_t seed = uint32_t(random_());
        pool_.parallelFor(distinct, [&](int64_t r, int) {
            std::mt19937 random(seed + uint32_t(r));
            std::normal_distribution<float> normal(0.0f, scale);
            std::vector<float> values(static_cast<size_t>(cols));
            for (float& v : values)
                v = normal(random);
            hip::quant::quantizeRow(type_, values.data(), pool.data() + uint64_t(r) * rowBytes,
                                    cols);
        });
        std::vector<uint8_t> data(rowBytes * uint64_t(rows));
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t source = (r * 7919) % distinct;
            std::copy_n(pool.begin() + ptrdiff_t(uint64_t(source) * rowBytes), rowBytes,
                        data.begin() + ptrdiff_t(uint64_t(r) * rowBytes));
        }
        writer_.addTensor(name, {cols, rows}, type_, data);
    }

    void vector(const std::string& name, const std::vector<float>& values) {
        writer_.addTensor(
            name, {int64_t(values.size())}, hip::quant::GgmlType::F32,
            {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(float)});
    }

    // Norm weights near 1.
    std::vector<float> norm(int64_t size) {
        std::normal_distribution<float> normal(1.0f, 0.02f);
        std::vector<float> values(static_cast<size_t>(size));
        for (float& v : values)
            v = normal(random_);
        return values;
    }

private:
    hip::gguf::GgufWriter& writer_;
    hip::quant::GgmlType type_;
    std::mt19937 random_;
    hip::ThreadPool pool_;
};

} // namespace

int runMakeModel(Arguments& args) {
    if (!args.validate({"shape", "type", "layers", "out", "seed"})) return fail(args.error());
    const std::string shapeName = args.value("shape", "llama3-8b");
    const Shape* found = nullptr;
    for (const Shape& s : kShapes)
        if (shapeName == s.name) found = &s;
    if (!found) return fail("unknown --shape '" + shapeName + "' (llama3-8b, smollm2-135m)");
    Shape shape = *found;
    shape.layers = int32_t(args.integer("layers", shape.layers));
    const auto out = args.value("out");
    const uint32_t seed = uint32_t(args.integer("seed", 1));
    if (!args.error().empty()) return fail(args.error());
    if (!out) return fail("make-model needs --out FILE");
    if (shape.layers < 1) return fail("--layers must be positive");

    const std::string typeText = args.value("type", "Q4_K");
    std::optional<hip::quant::GgmlType> type;
    for (uint32_t raw = 0; raw < 64; ++raw)
        if (auto traits = hip::quant::typeTraits(raw); traits && traits->name == typeText)
            type = traits->type;
    if (!type || !hip::quant::canQuantize(*type))
        return fail("--type '" + typeText + "' cannot be written (F16, BF16, Q8_0, Q4_K, ...)");
    const int64_t blockSize = hip::quant::traits(*type).blockSize;
    if (shape.hidden % blockSize != 0 || shape.ffn % blockSize != 0)
        return fail(typeText + " needs rows that are multiples of " + std::to_string(blockSize));

    hip::gguf::GgufWriter writer;
    const std::string arch = "llama", p = arch + ".";
    writer.setString("general.architecture", arch);
    writer.setString("general.name", std::string(shape.name) + " random " + typeText);
    writer.setUInt32("general.quantization_version", 2);
    writer.setUInt32(p + "block_count", uint32_t(shape.layers));
    writer.setUInt32(p + "context_length", uint32_t(shape.context));
    writer.setUInt32(p + "embedding_length", uint32_t(shape.hidden));
    writer.setUInt32(p + "feed_forward_length", uint32_t(shape.ffn));
    writer.setUInt32(p + "attention.head_count", uint32_t(shape.heads));
    writer.setUInt32(p + "attention.head_count_kv", uint32_t(shape.kvHeads));
    writer.setUInt32(p + "rope.dimension_count", uint32_t(shape.headDim));
    writer.setFloat32(p + "rope.freq_base", shape.ropeBase);
    writer.setFloat32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    writer.setUInt32(p + "vocab_size", uint32_t(shape.vocab));
    addTokenizer(writer, shape.vocab);

    TensorMaker make(writer, *type, seed);
    const int64_t E = shape.hidden, F = shape.ffn, D = shape.headDim;
    const int64_t qDim = int64_t(shape.heads) * D, kvDim = int64_t(shape.kvHeads) * D;
    const float scale = 1.0f / std::sqrt(float(E));
    make.matrix("token_embd.weight", E, shape.vocab, 1.0f);
    make.vector("output_norm.weight", make.norm(E));
    make.matrix("output.weight", E, shape.vocab, scale);
    if (shape.llama3Rope) make.vector("rope_freqs.weight", llama3RopeFactors(shape));
    for (int32_t l = 0; l < shape.layers; ++l) {
        std::fprintf(stderr, "\rlayer %d/%d", l + 1, shape.layers);
        const std::string b = "blk." + std::to_string(l) + ".";
        make.vector(b + "attn_norm.weight", make.norm(E));
        make.matrix(b + "attn_q.weight", E, qDim, scale);
        make.matrix(b + "attn_k.weight", E, kvDim, scale);
        make.matrix(b + "attn_v.weight", E, kvDim, scale);
        make.matrix(b + "attn_output.weight", qDim, E, 1.0f / std::sqrt(float(qDim)));
        make.vector(b + "ffn_norm.weight", make.norm(E));
        make.matrix(b + "ffn_gate.weight", E, F, scale);
        make.matrix(b + "ffn_up.weight", E, F, scale);
        make.matrix(b + "ffn_down.weight", F, E, 1.0f / std::sqrt(float(F)));
    }
    std::fprintf(stderr, "\rwriting %s\n", out->c_str());
    if (const hip::Status status = writer.writeFile(*out); !status) return fail(status.message());
    auto info = hip::inspectModel(*out);
    if (!info) return fail(info.message());
    std::printf("%s: %s, %lld parameters, %s\n", out->c_str(), info->name.c_str(),
                (long long)info->parameters, humanBytes(info->fileBytes).c_str());
    return 0;
}

} // namespace cli
