#pragma once
// Work handed to another thread through Qt: a call queued to an object's thread (queueCall), a job
// given to a thread pool (wrapped in Handed), a job's result (handoff::run, in run.h).
//
// Qt's queues are locked inside Qt, which is not built with ThreadSanitizer, so under TSan every
// such hand-off would look like a race: one thread builds the call, another runs it, and TSan sees
// no lock between them. Handed says where the hand-off is: each construction of a Handed value ends
// with a release on its address, and every use (a call, a copy, a move) begins with an acquire
// there and ends with a release; destruction begins with an acquire. What the sending thread did
// before handing the call over is thus ordered before the call, as Qt's lock orders it; nothing
// else is: a write made after the hand-off, or by any other thread, is still reported. Without
// ThreadSanitizer the annotations compile to nothing.

#include <QMetaObject>
#include <QObject>

#include <type_traits>
#include <utility>

#if defined(__SANITIZE_THREAD__) // GCC
#define HIP_HANDOFF_TSAN 1
#elif defined(__has_feature) // clang
#if __has_feature(thread_sanitizer)
#define HIP_HANDOFF_TSAN 1
#endif
#endif
#ifdef HIP_HANDOFF_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace hip::handoff {

// What the calling thread did so far happens before whatever follows an acquire(at) after it.
inline void release(const void* at) {
#ifdef HIP_HANDOFF_TSAN
    __tsan_release(const_cast<void*>(at));
#else
    (void)at;
#endif
}

inline void acquire(const void* at) {
#ifdef HIP_HANDOFF_TSAN
    __tsan_acquire(const_cast<void*>(at));
#else
    (void)at;
#endif
}

// A value handed to another thread through Qt: a call to run there (queueCall, a pool job) or a
// job's result coming back in its QFuture (handoff::run).
template <typename T> class Handed {
public:
    explicit Handed(T value) : value_(std::move(value)) { release(this); }
    // As noexcept as T's move: some calls capture values that are only copied (their move may
    // throw), and a Handed never sits in a container that would pick a copy instead.
    // NOLINTNEXTLINE(performance-noexcept-move-constructor)
    Handed(Handed&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(take(other)) {
        release(this);
    }
    // Thread pools take std::function and futures copy their results: both need copies.
    Handed(const Handed& other) : value_(copy(other)) { release(this); }
    Handed& operator=(const Handed&) = delete;
    Handed& operator=(Handed&&) = delete;
    // Qt may destroy a call on the thread that sent it, after another thread ran it.
    ~Handed() { acquire(this); }

    // Read on the thread that holds this one (a future's result() is a copy made for its reader).
    const T& value() const {
        acquire(this);
        return value_;
    }
    // Runs a handed call.
    decltype(auto) operator()() {
        const Use use(this);
        return value_();
    }

private:
    // One use of a Handed value: after what came before it, before what comes after it (its
    // destruction, on whichever thread).
    class Use {
    public:
        explicit Use(const void* at) : at_(at) { acquire(at_); }
        ~Use() { release(at_); }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

    private:
        const void* at_;
    };

    static T take(Handed& other) {
        const Use use(&other);
        return std::move(other.value_);
    }
    static T copy(const Handed& other) {
        const Use use(&other);
        return other.value_;
    }

    T value_;
};

// Runs `function` on the thread of `context`, from its event loop, after the calls queued to it
// before; dropped if `context` is destroyed first.
template <typename F> void queueCall(QObject* context, F function) {
    QMetaObject::invokeMethod(context, Handed<F>(std::move(function)), Qt::QueuedConnection);
}

} // namespace hip::handoff
