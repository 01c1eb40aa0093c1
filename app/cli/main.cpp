// hipreader-cli: the engine from the command line (inspection, chat, questions about a text,
// benchmarks).

#include "commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char* kUsage = R"(usage: hipreader-cli COMMAND [options]

commands:
  info [MODEL]                       describe a GGUF model and its memory needs
  generate --prompt TEXT             continue a text (no chat template)
  chat [--system TEXT]               interactive chat, answers streamed
  ask [--text FILE] --question TEXT  answer a question (about a text file)
  bench generate                     prefill and decode speed at each prompt length
         [--prompt-tokens N,... (512)] [--gen-tokens N] [--repeat N]
  bench kernels                      each CUDA kernel against the card's measured limits
         [--prefill-tokens N,...] [--decode-tokens N,...] [--repeat N] [--filter TEXT]
  serve [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--doc FILE ...]
                                     an OpenAI-compatible HTTP server (/v1/models,
                                     /v1/chat/completions, /v1/completions); books given with
                                     --doc are offered as context (docs/USER_GUIDE.md)
         [--max-tokens N (4096): the most a request may ask] [--max-request-bytes N (1 MiB)]
         [--queue N (64): requests waiting at most] [--password P (of the books)]
  make-model --out FILE              a GGUF of a real architecture's shapes with random weights
         [--shape llama3-8b|smollm2-135m] [--type Q4_K|Q8_0|F16|...] [--layers N] [--seed S]
  eval recall [--length N] [--samples N] [--seed S]
                                     share of the dense attention mass on HiP's keys per layer,
                                     against oracle, StreamingLLM, random blocks (8192 tokens, 8)
  eval ppl [--lengths N,...]         perplexity, dense and HiP (2K,4K,8K)
  eval passkey [--lengths N,...] [--depths D,...] [--seed S] [--dense-up-to N]
                                     a number hidden in filler text: do dense and HiP find it?
                                     (1K,2K,4K tokens; depths 0.1,0.5,0.9; dense at every length)
  eval locality [--length N] [--samples N] [--png FILE]
                                     spread of score differences against key distance (4096, 16)
  eval sources [--pages N,...] [--facts N] [--seed S] [--pdf-dir DIR] [--max-tokens N]
                                     facts planted on known pages of PDFs of filler prose: is
                                     each answer right, is its page cited first (page@1), among
                                     the first three (page@3)? (10,100,1000 pages, 10 facts;
                                     --attention and --context as for a book: planned when not
                                     given)
    evals: --csv FILE also writes the table (sources: the questions); --attention picks the HiP
    configuration (hip-3k), which prunes at every length (sources: the attention); recall, ppl, locality and sources read --text FILE (default: Newton's
    Opticks, from the Debian package golang-1.19-src)

model options (every command):
  --model PATH          GGUF file (default: the bundled SmolLM2-135M-Instruct)
  --device auto|cpu|cuda  where the model runs (default: auto, the GPU when one is usable,
                        else the CPU)
  --cpu-fallback        with --device cuda: run on the CPU (with a warning) if the GPU cannot
                        be used
  --threads N           CPU threads (default: all cores)
  --int8-activations    on the CPU, decode products in 8-bit integers as llama.cpp does: faster,
                        logits less exact (the default is the fp32 reference path)
  --context N           KV cache capacity in tokens (default: the model's trained context;
                        ask: one that holds a longer document, with HiP attention)
  --allow-over-memory   load even if the memory estimate says it will not fit

attention options (every command):
  --attention PRESET    dense (default), hip-3k, hip-3k-fast, hip-3k-flash, hip-5k, hip-tree
  --sinks N --window N --query-block N
  --dense-below N|auto  context below which layers run dense; auto (default): where dense is
                        faster, timed at load on a GPU, else 4096
  --stages C:K:S:R,...  pruning stages: chunk size, kept tokens, query stride, refresh interval
  --first-layers N --first-layers-final N   chunk-indexed pruning and its budget, first layers
  --tree-query-block N --tree-key-block N --tree-tokens N --tree-refresh N --tree-dense-layers N

sampling options (generate, chat, ask):
  --max-tokens N (512)  --temperature T (0 = greedy)  --top-k K (40)  --top-p P (0.95)
  --min-p P (0.05)  --repeat-penalty R (1 = off)  --seed S (0)  --stats (speeds on stderr)
)";

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    cli::Arguments args(argc - 2, argv + 2,
                        {"allow-over-memory", "stats", "cpu-fallback", "int8-activations"});
    if (command == "info") return cli::runInfo(args);
    if (command == "generate") return cli::runGenerate(args);
    if (command == "chat") return cli::runChat(args);
    if (command == "ask") return cli::runAsk(args);
    if (command == "bench") return cli::runBench(args);
    if (command == "eval") return cli::runEval(args);
    if (command == "make-model") return cli::runMakeModel(args);
#ifdef HIPREADER_HAS_SERVER
    if (command == "serve") return cli::runServe(args);
#else
    if (command == "serve") {
        std::fprintf(stderr, "hipreader-cli: this build has no server (it needs Qt HttpServer and "
                             "the document library: scripts/setup installs them)\n");
        return 1;
    }
#endif
    std::fprintf(stderr, "hipreader-cli: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
}
