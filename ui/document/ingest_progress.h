#pragma once
// Turns the engine's "reading" progress (tokens done / total) into what a person wants to see:
// the speed and the time left. Prefill slows down as the context grows, so the time left
// follows the recent speed, not the average.

#include <hip/cancel.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace hip::doc {

struct IngestEstimate {
    int64_t done = 0;
    int64_t total = 0;
    double elapsedSeconds = 0;
    double tokensPerSecond = 0; // average since the start
    double secondsLeft = -1;    // -1 until there is a speed to go by
    // Whole pages of the document among the tokens done, of `pages` (0: not known).
    int pagesRead = 0;
    int pages = 0;

    double fraction() const { return total > 0 ? double(done) / double(total) : 0; }
    // "12,345 / 100,000 tokens (12%), 20 / 160 pages, 1,234 tokens/s, about 1 min 12 s left"
    std::string describe() const;
};

class IngestProgress {
public:
    IngestProgress(); // the clock starts now
    IngestEstimate update(const hip::Progress& progress);
    // The same with the time since the start given, for callers with their own clock (tests).
    IngestEstimate update(const hip::Progress& progress, double elapsedSeconds);

private:
    std::chrono::steady_clock::time_point start_;
    int64_t lastDone_ = 0;
    double lastSeconds_ = 0;
    double recentRate_ = 0; // tokens/s, smoothed over the last chunks
};

} // namespace hip::doc
