#include "memory/memory_history.h"

#include <algorithm>

namespace hip::ui {

void MemoryHistory::add(const MemorySample& sample) {
    samples_.push_back(sample);
    while (samples_.size() > capacity_)
        samples_.pop_front();
}

uint64_t MemoryHistory::engineBytes(const hip::MemoryReport& r) {
    return r.weightBytes + r.kvDeviceBytes + r.kvHostBytes + r.scratchBytes;
}

uint64_t MemoryHistory::peakEngineBytes() const {
    uint64_t peak = 0;
    for (const MemorySample& s : samples_)
        peak = std::max(peak, engineBytes(s.report));
    return peak;
}

} // namespace hip::ui
