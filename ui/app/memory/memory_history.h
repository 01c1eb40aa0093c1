#pragma once
// The last minute or so of memory samples, for the gauge's sparkline.

#include "bridge/bridge_types.h"

#include <deque>

namespace hip::ui {

class MemoryHistory {
public:
    explicit MemoryHistory(size_t capacity = 120) : capacity_(capacity) {}

    void add(const MemorySample& sample);
    void clear() { samples_.clear(); }
    const std::deque<MemorySample>& samples() const { return samples_; }
    bool isEmpty() const { return samples_.empty(); }
    const MemorySample& latest() const { return samples_.back(); }
    // The largest engine total (weights + KV + scratch) in the history: the sparkline's top.
    uint64_t peakEngineBytes() const;

    static uint64_t engineBytes(const hip::MemoryReport& report);

private:
    size_t capacity_;
    std::deque<MemorySample> samples_;
};

} // namespace hip::ui
