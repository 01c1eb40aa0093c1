#pragma once
// Error handling for the engine: a Status carries a message a person can act on; Result<T> is
// either a value or that Status. No exceptions cross the engine boundary.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hip {

enum class ErrorCode {
    Ok = 0,
    InvalidArgument, // the caller passed something unusable
    InvalidFile,     // a file exists but its contents are damaged or unsupported
    NotFound,        // a file, key or tensor is missing
    Unsupported,     // valid input that this engine cannot handle (architecture, type)
    OutOfMemory,     // an allocation would not fit
    Cancelled,       // the caller's cancel token fired
    Internal,        // a bug: an invariant did not hold
};

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok() { return {}; }
    const Status& status() const { return *this; } // lets HIP_TRY take a Status or a Result

    bool isOk() const { return code_ == ErrorCode::Ok; }
    explicit operator bool() const { return isOk(); }
    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }

    // Prefixes the message with context, e.g. "loading model.gguf: " + original message.
    Status withContext(const std::string& context) const {
        if (isOk()) return *this;
        return {code_, context + ": " + message_};
    }

private:
    ErrorCode code_ = ErrorCode::Ok;
    std::string message_;
};

inline Status makeError(ErrorCode code, std::string message) {
    return Status(code, std::move(message));
}

template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Status error) : state_(std::move(error)) {
        assert(!std::get<Status>(state_).isOk() &&
               "a Result built from a Status must hold an error");
    }

    bool isOk() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return isOk(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    Status status() const { return isOk() ? Status::ok() : std::get<Status>(state_); }
    const std::string& message() const {
        static const std::string empty;
        return isOk() ? empty : std::get<Status>(state_).message();
    }

private:
    std::variant<T, Status> state_;
};

} // namespace hip

// Propagates an error Status (or the error of a Result) to the caller.
#define HIP_TRY(expr)                                                                              \
    do {                                                                                           \
        if (auto hip_try_status_ = (expr).status(); !hip_try_status_.isOk())                       \
            return hip_try_status_;                                                                \
    } while (0)
