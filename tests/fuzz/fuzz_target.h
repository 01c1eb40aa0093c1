#pragma once
// What every fuzz target defines: libFuzzer's entry point. The same target is linked either with
// libFuzzer (clang, scripts/fuzz.sh) or with replay_main.cpp (any compiler, CTest), which feeds it
// the corpus and the regression inputs in tests/fuzz/.

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
