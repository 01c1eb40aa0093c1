#include "runtime/host_memory.h"

#include <fstream>
#include <string>

namespace hip::runtime {
namespace {

uint64_t meminfoField(const std::string& field) {
    std::ifstream meminfo("/proc/meminfo");
    std::string name;
    uint64_t kib = 0;
    std::string unit;
    while (meminfo >> name >> kib >> unit)
        if (name == field + ":") return kib * 1024;
    return 0;
}

} // namespace

uint64_t availableHostMemory() {
    return meminfoField("MemAvailable");
}
uint64_t totalHostMemory() {
    return meminfoField("MemTotal");
}

} // namespace hip::runtime
