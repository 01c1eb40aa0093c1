#include "hip/session.h"

#include "runtime/engine_state.h"
#include "runtime/sampler.h"

#include <algorithm>
#include <chrono>
#include <functional>

namespace hip {

struct SessionState {
    EngineState& engine;
    std::unique_ptr<backend::KvCache> cache;
    std::vector<int32_t> cachedTokens; // what the KV cache holds, position by position
    std::vector<ChatTurn> history;
    std::string systemPrompt;
    AttentionTrace trace;

    explicit SessionState(EngineState& e) : engine(e) {}

    Status ensureCache() {
        if (cache) return Status::ok();
        const model::ModelConfig& c = engine.transformer->config();
        auto created =
            engine.backend->createKvCache({c.layers, c.kvHeads, c.headDim, engine.contextTokens});
        HIP_TRY(created);
        cache = std::move(*created);
        std::lock_guard lock(engine.sessionsMutex);
        engine.liveCaches.push_back(cache.get());
        return Status::ok();
    }

    // Creates the cache on first use and checks that `count` more tokens fit in it.
    Status makeRoom(size_t count) {
        HIP_TRY(ensureCache());
        const int64_t end = int64_t(cachedTokens.size() + count);
        if (end > cache->capacity())
            return makeError(ErrorCode::InvalidArgument,
                             "the text needs " + std::to_string(end) +
                                 " tokens of context but the session holds " +
                                 std::to_string(cache->capacity()));
        return Status::ok();
    }

    // Runs `tokens` after the cached ones in prefill-sized chunks, each through `pass` (the
    // forward pass of `part` at position `start`, which keeps what it needs of the logits). The
    // caller holds the compute lock.
    using ChunkPass = std::function<Status(const std::vector<int32_t>& part, int64_t start)>;
    Status runChunks(const std::vector<int32_t>& tokens, const ProgressCallback& progress,
                     const ChunkPass& pass) {
        const size_t chunk = size_t(engine.transformer->maxBatch());
        for (size_t first = 0; first < tokens.size(); first += chunk) {
            if (progress) progress({"prefill", int64_t(first), int64_t(tokens.size())});
            const std::vector<int32_t> part(tokens.begin() + ptrdiff_t(first),
                                            tokens.begin() +
                                                ptrdiff_t(std::min(tokens.size(), first + chunk)));
            Status status = pass(part, int64_t(cachedTokens.size()));
            if (!status) {
                cache->truncate(int64_t(cachedTokens.size()));
                return status;
            }
            cachedTokens.insert(cachedTokens.end(), part.begin(), part.end());
        }
        if (progress) progress({"prefill", int64_t(tokens.size()), int64_t(tokens.size())});
        return Status::ok();
    }

    // Runs `tokens` after the cached ones; returns the logits of the last token (or of all of
    // them).
    Result<std::vector<float>> run(const std::vector<int32_t>& tokens, bool allLogits,
                                   const CancelToken& cancel, const ProgressCallback& progress) {
        HIP_TRY(makeRoom(tokens.size()));
        std::lock_guard lock(engine.computeMutex);
        model::Transformer& model = *engine.transformer;
        std::vector<float> logits, chunkLogits;
        auto pass = [&](const std::vector<int32_t>& part, int64_t start) {
            HIP_TRY(model.forward(part, start, *cache, allLogits, chunkLogits, cancel));
            if (allLogits)
                logits.insert(logits.end(), chunkLogits.begin(), chunkLogits.end());
            else
                logits.swap(chunkLogits);
            return Status::ok();
        };
        HIP_TRY(runChunks(tokens, progress, pass));
        return logits;
    }

    // Runs `tokens` after the cached ones and samples the next token from the last one's logits
    // where they lie (on a GPU only the token comes back). The logits are the shared scratch of
    // the model, so sampling happens under the same lock as the pass.
    Result<int32_t> runAndSample(const std::vector<int32_t>& tokens, runtime::Sampler& sampler,
                                 const CancelToken& cancel) {
        HIP_TRY(makeRoom(tokens.size()));
        std::lock_guard lock(engine.computeMutex);
        model::Transformer& model = *engine.transformer;
        const size_t cachedBefore = cachedTokens.size();
        backend::Act logits;
        auto pass = [&](const std::vector<int32_t>& part, int64_t start) {
            auto last = model.forwardLast(part, start, *cache, cancel);
            HIP_TRY(last);
            logits = *last;
            return Status::ok();
        };
        HIP_TRY(runChunks(tokens, {}, pass));
        auto token =
            engine.backend->sampleToken(logits, cachedTokens, sampler.options(), sampler.draw());
        if (!token) {
            // An asynchronous backend reports a failed pass only here: forget its tokens.
            cachedTokens.resize(cachedBefore);
            cache->truncate(int64_t(cachedBefore));
        }
        return token;
    }

    // Keeps the longest cached prefix of `tokens` before `keepBefore` (at least one token is
    // always left to run, so there are logits to sample from) and returns the tokens still to
    // run.
    std::vector<int32_t> reusePrefix(const std::vector<int32_t>& tokens, size_t keepBefore) {
        size_t common = 0;
        const size_t limit = std::min({tokens.size() - 1, cachedTokens.size(), keepBefore});
        while (common < limit && tokens[common] == cachedTokens[common])
            ++common;
        cachedTokens.resize(common);
        if (cache) cache->truncate(int64_t(common));
        return {tokens.begin() + ptrdiff_t(common), tokens.end()};
    }

    // Adds the selections of the token just decoded at `position` to the trace.
    void recordTrace(int64_t position) {
        std::vector<std::vector<KeyRange>> layers = cache->lastSelections();
        if (std::all_of(layers.begin(), layers.end(), [](const auto& l) { return l.empty(); }))
            return;
        if (trace.hitCounts.size() < size_t(position + 1))
            trace.hitCounts.resize(size_t(position + 1));
        for (const auto& ranges : layers)
            for (const KeyRange& r : ranges)
                for (int64_t p = r.begin; p < r.end && p <= position; ++p)
                    ++trace.hitCounts[size_t(p)];
        trace.tokens.push_back({position, std::move(layers)});
    }

    // Runs the prompt's tokens still to run and samples the first answer token. The last
    // `questionTokens` of them run with the exact attention trace on (trace.questionMass).
    Result<int32_t> runPrompt(const std::vector<int32_t>& todo, size_t questionTokens,
                              runtime::Sampler& sampler, const CancelToken& cancel) {
        if (questionTokens == 0) return runAndSample(todo, sampler, cancel);
        const auto question = todo.end() - ptrdiff_t(questionTokens);
        if (question != todo.begin()) HIP_TRY(run({todo.begin(), question}, false, cancel, {}));
        cache->exactMass = &trace.questionMass;
        auto sampled = runAndSample({question, todo.end()}, sampler, cancel);
        cache->exactMass = nullptr;
        return sampled;
    }

    // Answers `prompt`, whose tokens from `questionBegin` on are the question (prompt.size():
    // none).
    Result<Answer> generate(const std::vector<int32_t>& prompt, size_t questionBegin,
                            const GenerateOptions& options, const TokenSink& sink,
                            const CancelToken& cancel) {
        trace = {};
        using Clock = std::chrono::steady_clock;
        if (prompt.empty()) return makeError(ErrorCode::InvalidArgument, "the prompt is empty");
        Answer answer;
        // The question's tokens always run, so that their attention is traced.
        const std::vector<int32_t> todo = reusePrefix(prompt, questionBegin);
        answer.stats.reusedTokens = int64_t(prompt.size() - todo.size());
        answer.stats.promptTokens = int64_t(todo.size());

        const tok::Tokenizer& tokenizer = *engine.tokenizer;
        runtime::Sampler sampler(options.sampler);
        const auto prefillStart = Clock::now();
        auto sampled = runPrompt(todo, prompt.size() - questionBegin, sampler, cancel);
        if (!sampled) {
            if (sampled.status().code() == ErrorCode::Cancelled) {
                answer.stopReason = StopReason::Cancelled;
                return answer;
            }
            return sampled.status();
        }
        const auto decodeStart = Clock::now();
        answer.stats.prefillSeconds =
            std::chrono::duration<double>(decodeStart - prefillStart).count();

        tok::StreamingDecoder decoder(tokenizer);
        answer.stopReason = StopReason::MaxTokens;
        for (int32_t step = 0; step < options.maxTokens; ++step) {
            if (cancel.isCancelled()) {
                answer.stopReason = StopReason::Cancelled;
                break;
            }
            const int32_t token = *sampled;
            if (tokenizer.isEndOfGeneration(token)) {
                answer.stopReason = StopReason::EndOfTurn;
                break;
            }
            answer.tokens.push_back(token);
            const std::string piece = decoder.push(token);
            answer.text += piece;
            if (!piece.empty() && sink && !sink(piece)) {
                answer.stopReason = StopReason::SinkStopped;
                break;
            }
            if (int64_t(cachedTokens.size()) + 1 > cache->capacity()) {
                answer.stopReason = StopReason::ContextFull;
                break;
            }
            if (step + 1 == options.maxTokens) break; // no next token after the last one
            cache->attentionMass = &trace.mass;
            sampled = runAndSample({token}, sampler, cancel);
            cache->attentionMass = nullptr;
            if (!sampled) {
                if (sampled.status().code() == ErrorCode::Cancelled) {
                    answer.stopReason = StopReason::Cancelled;
                    break;
                }
                return sampled.status();
            }
            recordTrace(int64_t(cachedTokens.size()) - 1);
        }
        const std::string rest = decoder.flush();
        answer.text += rest;
        if (!rest.empty() && sink) sink(rest);
        answer.stats.generatedTokens = int64_t(answer.tokens.size());
        answer.stats.decodeSeconds =
            std::chrono::duration<double>(Clock::now() - decodeStart).count();
        return answer;
    }
};

Session::Session(EngineState& engine) : state_(std::make_unique<SessionState>(engine)) {}

Session::~Session() {
    if (!state_->cache) return;
    std::lock_guard lock(state_->engine.sessionsMutex);
    auto& caches = state_->engine.liveCaches;
    caches.erase(std::remove(caches.begin(), caches.end(), state_->cache.get()), caches.end());
}

void Session::setSystemPrompt(std::string text) {
    state_->systemPrompt = std::move(text);
}

namespace {

// The system turn that carries a document. Small models answer best when the instruction comes
// first and the text is clearly delimited.
std::string documentPrompt(const DocumentInput& document) {
    std::string header = "Answer the user's questions about the following document";
    if (!document.title.empty()) header += ", \"" + document.title + "\"";
    return header + ".\n\n";
}

} // namespace

std::string documentSystemTurn(const DocumentInput& document) {
    return documentPrompt(document) + document.text;
}

Result<IngestResult> Session::ingest(const DocumentInput& document,
                                     const ProgressCallback& progress, const CancelToken& cancel) {
    using Clock = std::chrono::steady_clock;
    const auto begin = Clock::now();
    const std::string header = documentPrompt(document);
    const std::string system = header + document.text;
    const tok::ChatTemplate& chat = state_->engine.chatTemplate;
    const std::string prompt = chat.render({{"system", system}}, false);
    const size_t systemOffset = prompt.find(system);
    if (systemOffset == std::string::npos)
        return makeError(ErrorCode::Internal, "the chat template changed the document text");
    const size_t textOffset = systemOffset + header.size();
    const tok::Encoding encoding =
        state_->engine.tokenizer->encode(prompt, {.addSpecial = true, .parseSpecial = true});

    const int64_t capacity = state_->engine.contextTokens;
    const int64_t needed = int64_t(encoding.ids.size());
    const int64_t budget = documentTokenBudget(capacity);
    const int64_t reserve = capacity - budget;
    if (needed > budget) {
        const double fraction = double(budget) / double(needed);
        return makeError(
            ErrorCode::InvalidArgument,
            "the document is " + std::to_string(needed) + " tokens but the context holds " +
                std::to_string(capacity) + " (with " + std::to_string(reserve) +
                " kept for the question and answer): about " + std::to_string(int(fraction * 100)) +
                "% of it fits. Choose a longer context or a shorter document.");
    }

    reset();
    state_->systemPrompt = system;
    const uint64_t textEnd = textOffset + document.text.size();
    auto run = state_->run(encoding.ids, false, cancel, [&](const Progress& p) {
        if (!progress) return;
        const uint64_t readEnd = p.done > 0 ? encoding.spans[size_t(p.done - 1)].end : 0;
        const uint64_t bytes = std::clamp<uint64_t>(readEnd, textOffset, textEnd) - textOffset;
        progress({"reading", p.done, p.total, int64_t(bytes)});
    });
    if (!run) {
        reset();
        return run.status();
    }

    IngestResult result;
    result.contextTokens = state_->cache->tokens();
    bool started = false;
    for (size_t i = 0; i < encoding.spans.size(); ++i) {
        const tok::TokenSpan span = encoding.spans[i];
        if (span.end <= textOffset || span.begin >= textEnd) {
            if (started) break;
            continue;
        }
        if (!started) {
            result.firstDocumentToken = int64_t(i);
            started = true;
        }
        result.documentTokens.push_back({std::max<uint64_t>(span.begin, textOffset) - textOffset,
                                         std::min<uint64_t>(span.end, textEnd) - textOffset});
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    return result;
}

Result<Answer> Session::ask(const std::string& question, const GenerateOptions& options,
                            const TokenSink& sink, const CancelToken& cancel) {
    const tok::ChatTemplate& chat = state_->engine.chatTemplate;
    std::vector<tok::ChatMessage> messages;
    if (!state_->systemPrompt.empty()) messages.push_back({"system", state_->systemPrompt});
    for (const ChatTurn& turn : state_->history)
        messages.push_back({turn.role, turn.content});
    messages.push_back({"user", question});
    const std::string prompt = chat.render(messages, true);
    const tok::Encoding encoding =
        state_->engine.tokenizer->encode(prompt, {.addSpecial = true, .parseSpecial = true});
    // The question's tokens: from the first that holds part of its text to the end of the
    // prompt (the template's end of turn and the answer's header look up the answer too).
    size_t questionBegin = encoding.ids.size();
    const size_t questionOffset = question.empty() ? std::string::npos : prompt.rfind(question);
    if (questionOffset != std::string::npos)
        for (size_t i = 0; i < encoding.spans.size(); ++i)
            if (encoding.spans[i].end > questionOffset) {
                questionBegin = i;
                break;
            }

    auto answer = state_->generate(encoding.ids, questionBegin, options, sink, cancel);
    HIP_TRY(answer);
    if (answer->stopReason != StopReason::Cancelled) {
        state_->history.push_back({"user", question});
        state_->history.push_back({"assistant", answer->text});
    }
    return answer;
}

Result<Answer> Session::complete(const std::string& prompt, const GenerateOptions& options,
                                 const TokenSink& sink, const CancelToken& cancel) {
    const tok::Encoding encoding = state_->engine.tokenizer->encode(prompt, {});
    return state_->generate(encoding.ids, encoding.ids.size(), options, sink, cancel);
}

Result<std::vector<float>> Session::evaluate(const std::vector<int32_t>& tokens, bool allLogits,
                                             const CancelToken& cancel,
                                             const ProgressCallback& progress) {
    if (tokens.empty()) return makeError(ErrorCode::InvalidArgument, "no tokens to evaluate");
    return state_->run(tokens, allLogits, cancel, progress);
}

const AttentionTrace& Session::trace() const {
    return state_->trace;
}

void Session::setHistory(std::vector<ChatTurn> turns) {
    state_->history = std::move(turns);
}

const std::vector<ChatTurn>& Session::history() const {
    return state_->history;
}
int64_t Session::cachedTokens() const {
    return int64_t(state_->cachedTokens.size());
}

void Session::truncate(int64_t tokens) {
    state_->history.clear();
    if (tokens < 0 || size_t(tokens) >= state_->cachedTokens.size()) return;
    state_->cachedTokens.resize(size_t(tokens));
    state_->cache->truncate(tokens);
}

void Session::reset() {
    state_->history.clear();
    state_->cachedTokens.clear();
    if (state_->cache) state_->cache->truncate(0);
}

} // namespace hip
