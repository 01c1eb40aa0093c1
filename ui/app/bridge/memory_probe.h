#pragma once
// Engine::memory() for the GUI thread. The worker attaches its engine once loaded and detaches
// it before destroying it; the GUI samples in between whenever it likes, also while the engine
// thread is in the middle of a computation (Engine::memory() is safe from any thread then, and
// cheap). The lock guards only the pointer: a sample never waits for the engine's work, and a
// detach waits at most for one sample to end.

#include <hip/engine.h>
#include <hip/memory_report.h>

#include <mutex>
#include <optional>

namespace hip::ui {

class MemoryProbe {
public:
    // Engine thread: `engine` may be sampled until detach().
    void attach(const hip::Engine& engine) {
        std::lock_guard lock(mutex_);
        engine_ = &engine;
    }
    // Engine thread: once this returns, no sample uses the engine.
    void detach() {
        std::lock_guard lock(mutex_);
        engine_ = nullptr;
    }
    // Any thread: the engine's memory now, or nothing while no engine is attached.
    std::optional<hip::MemoryReport> sample() const {
        std::lock_guard lock(mutex_);
        if (!engine_) return std::nullopt;
        return engine_->memory();
    }

private:
    mutable std::mutex mutex_;
    const hip::Engine* engine_ = nullptr;
};

} // namespace hip::ui
