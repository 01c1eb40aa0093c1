#include "cli_common.h"
#include "commands.h"

#include <cstdio>

namespace cli {

int runInfo(Arguments& args) {
    if (!args.validate(unite({kModelOptions}))) return fail(args.error());
    auto loadChoice = loadOptions(args);
    if (!loadChoice) return 1;
    hip::LoadOptions options = *loadChoice;
    if (args.positional().size() > 1) return fail("info takes one model file");
    if (args.positional().size() == 1) options.model = args.positional()[0];

    auto info = hip::inspectModel(options.model);
    if (!info) return fail(info.message());
    auto estimate = hip::Engine::estimateMemory(options);
    if (!estimate) return fail(estimate.message());

    const hip::ModelInfo& m = *info;
    std::printf("file            %s (%s)\n", m.path.c_str(), humanBytes(m.fileBytes).c_str());
    std::printf("name            %s\n", m.name.c_str());
    std::printf("architecture    %s\n", m.architecture.c_str());
    std::printf("parameters      %.1f M\n", double(m.parameters) / 1e6);
    std::printf("layers          %lld\n", (long long)m.layers);
    std::printf("hidden size     %lld (feed-forward %lld)\n", (long long)m.embeddingLength,
                (long long)m.feedForwardLength);
    std::printf("heads           %lld query, %lld key/value, head size %lld\n", (long long)m.heads,
                (long long)m.kvHeads, (long long)m.headDim);
    std::printf("vocabulary      %lld tokens, %s\n", (long long)m.vocabSize, m.tokenizer.c_str());
    std::printf("context         %lld tokens trained\n", (long long)m.contextLength);
    std::printf("rope            base %g, scaling %s\n", m.ropeFreqBase, m.ropeScaling.c_str());
    std::printf("embeddings      %s\n",
                m.tiedEmbeddings ? "tied (output = token embedding)" : "separate output matrix");
    std::printf("chat format     %s\n", m.chatFormat.c_str());
    std::printf("tensor types   ");
    for (const auto& [type, usage] : m.tensorTypes)
        std::printf(" %s: %lld tensors %s;", type.c_str(), (long long)usage.tensors,
                    humanBytes(usage.bytes).c_str());
    std::printf("\n");
    std::printf("KV cache        %s per token\n", humanBytes(m.kvBytesPerToken).c_str());
    std::printf("attention       %s\n", options.attention.describe().c_str());
    const hip::MemoryEstimate& e = *estimate;
    std::printf("memory (%s)    %s = weights %s + KV %s for %lld tokens + scratch %s; "
                "%s available: %s\n",
                deviceLabel(e.device), humanBytes(e.totalBytes()).c_str(),
                humanBytes(e.weightBytes).c_str(), humanBytes(e.kvBytes).c_str(),
                (long long)e.contextTokens, humanBytes(e.scratchBytes).c_str(),
                humanBytes(e.availableBytes).c_str(), e.fits() ? "fits" : "does not fit");
    return 0;
}

} // namespace cli
