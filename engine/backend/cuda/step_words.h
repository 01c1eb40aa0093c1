#pragma once
// What the parts of the CUDA backend share about activations and decode-step identity: the words
// that identify an interface call in a recorded step (launch_queue.h), and helpers over Act.

#include "backend/backend.h"
#include "kernels/kernel_types.h"

#include <bit>
#include <cstdint>

namespace hip::backend {

// Interface calls, as the first word of their identity in a decode step.
enum class StepOp : uint64_t {
    Embed = 1,
    RmsNorm,
    AddRmsNorm,
    Matmul,
    Add,
    Swiglu,
    Attention,
    Inputs,
    Matvecs, // a launch of the pending products (after their Matmul words)
};

inline uint64_t word(const void* p) {
    return uint64_t(reinterpret_cast<uintptr_t>(p));
}
inline uint64_t word(int64_t v) {
    return uint64_t(v);
}
inline uint64_t word(float v) {
    return std::bit_cast<uint32_t>(v);
}
inline uint64_t word(StepOp op) {
    return uint64_t(op);
}
inline uint64_t word(const Act& a) {
    uint64_t h = word(a.data);
    for (uint64_t part : {uint64_t(a.rows), uint64_t(a.cols), uint64_t(a.stride)})
        h = (h ^ part) * 0x9E3779B97F4A7C15ull + (h >> 29);
    return h;
}

inline kernels::Rows rows(const Act& a) {
    return {a.data, a.rows, a.cols, a.stride};
}

inline bool sameAct(const Act& a, const Act& b) {
    return a.data == b.data && a.rows == b.rows && a.cols == b.cols && a.stride == b.stride;
}

// Whether the memory spans of a and b (first value to last) intersect.
inline bool overlaps(const Act& a, const Act& b) {
    if (!a.data || !b.data || a.rows == 0 || b.rows == 0) return false;
    const auto begin = [](const Act& m) { return reinterpret_cast<uintptr_t>(m.data); };
    const auto end = [](const Act& m) {
        return reinterpret_cast<uintptr_t>(m.row(m.rows - 1) + m.cols);
    };
    return begin(a) < end(b) && begin(b) < end(a);
}

} // namespace hip::backend
