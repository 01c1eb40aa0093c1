#pragma once
// What the CLI commands share: model and sampling options, loading with progress, errors.

#include "arguments.h"

#include <hip/engine.h>
#include <hip/session.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace cli {

// Options every model-loading command accepts.
extern const std::set<std::string> kModelOptions;
// Options of commands that generate text.
extern const std::set<std::string> kSamplingOptions;
std::set<std::string> unite(std::initializer_list<std::set<std::string>> sets);

// Model and attention options; on a bad value prints the error and returns nullopt.
std::optional<hip::LoadOptions> loadOptions(Arguments& args);
// `defaultPreset` applies when --attention is not given.
std::optional<hip::AttentionConfig> attentionConfig(Arguments& args,
                                                    const std::string& defaultPreset = "dense");
hip::GenerateOptions generateOptions(Arguments& args);

// Model, attention and sampling options of a generating command; on a bad value prints the
// error and returns nullopt.
struct GenerationChoice {
    hip::LoadOptions load;
    hip::GenerateOptions generate;
};
std::optional<GenerationChoice> generationChoice(Arguments& args);

// Runs one generation (`run` gets the sink and cancel token to pass on), printing the answer to
// stdout as it streams; Ctrl-C stops it.
using Generation = std::function<hip::Result<hip::Answer>(const hip::TokenSink& sink,
                                                          const hip::CancelToken& cancel)>;
hip::Result<hip::Answer> streamToStdout(const Generation& run);

// The load options for reading a document of `text`: Engine::planForDocument's attention and
// context (--attention and --context, when given, stay) and the memory estimate, said on stderr.
// On failure prints the error and returns nullopt.
std::optional<hip::LoadOptions> planForDocument(Arguments& args, const hip::LoadOptions& options,
                                                const std::string& text);

// Loads the engine, reporting progress on stderr; on failure prints the error and returns null.
std::unique_ptr<hip::Engine> loadEngine(const hip::LoadOptions& options);

// Prints "hipreader-cli: <message>" to stderr and returns the exit status for errors.
int fail(const std::string& message);
std::string humanBytes(uint64_t bytes);
// "CPU" or "GPU": the device a MemoryEstimate is for.
const char* deviceLabel(hip::Device device);
// Prints token counts, speeds and the stop reason of an answer to stderr.
void printStats(const hip::Answer& answer);

// A cancel token that Ctrl-C fires (once; a second Ctrl-C ends the program).
hip::CancelToken interruptToken();
void resetInterrupt(); // arms a fresh token for the next operation

} // namespace cli
