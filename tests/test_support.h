#pragma once
// Shared helpers for the test suites: where the default model and the test data live, sampler
// options in one call.

#include <hip/generation.h>

#include <QString>
#include <QtTest>

#include <filesystem>

namespace hiptest {

inline std::filesystem::path sourceDir() {
    return HIPREADER_SOURCE_DIR;
}
inline std::filesystem::path dataDir() {
    return HIPREADER_TEST_DATA;
}

// The default model, installed by scripts/setup. Suites that need it fail (not skip) when it is
// missing, because CI always runs setup first.
inline std::filesystem::path defaultModelPath() {
    if (const char* env = std::getenv("HIPREADER_MODEL"); env && *env) return env;
    return sourceDir() / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

// A long real text (Newton's Opticks, public domain, from the Debian package golang-1.19-src that
// scripts/setup installs), for tests that read past a model's trained context.
inline std::filesystem::path longTextPath() {
    if (const char* env = std::getenv("HIPREADER_LONG_TEXT"); env && *env) return env;
    return "/usr/share/go-1.19/src/testdata/Isaac.Newton-Opticks.txt";
}

inline hip::SamplerOptions samplerOptions(float temperature, int32_t topK, float topP, float minP,
                                          float penalty = 1.0f, int32_t window = 64) {
    hip::SamplerOptions o;
    o.temperature = temperature;
    o.topK = topK;
    o.topP = topP;
    o.minP = minP;
    o.repetitionPenalty = penalty;
    o.repetitionWindow = window;
    return o;
}

} // namespace hiptest

// Fails the current test with a message when the default model is not installed.
#define HIPTEST_REQUIRE_DEFAULT_MODEL()                                                            \
    do {                                                                                           \
        if (!std::filesystem::exists(hiptest::defaultModelPath()))                                 \
            QFAIL(qPrintable(                                                                      \
                QStringLiteral("default model missing at %1: run scripts/setup")                   \
                    .arg(QString::fromStdString(hiptest::defaultModelPath().string()))));          \
    } while (0)
