#pragma once
// Host memory as the operating system reports it.

#include <cstdint>

namespace hip::runtime {

// MemAvailable from /proc/meminfo (what can be allocated without swapping), in bytes; 0 if unknown.
uint64_t availableHostMemory();
uint64_t totalHostMemory();

} // namespace hip::runtime
