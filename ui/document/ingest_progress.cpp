#include "document/ingest_progress.h"

#include <cmath>

namespace hip::doc {
namespace {

// 1234567 -> "1,234,567"
std::string grouped(int64_t value) {
    std::string digits = std::to_string(value < 0 ? -value : value);
    for (int i = int(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(size_t(i), ",");
    return value < 0 ? "-" + digits : digits;
}

std::string duration(double seconds) {
    const int64_t s = std::llround(seconds);
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

} // namespace

std::string IngestEstimate::describe() const {
    std::string text = grouped(done) + " / " + grouped(total) + " tokens (" +
                       std::to_string(int(fraction() * 100)) + "%)";
    if (pages > 0) text += ", " + grouped(pagesRead) + " / " + grouped(pages) + " pages";
    if (tokensPerSecond > 0) text += ", " + grouped(std::llround(tokensPerSecond)) + " tokens/s";
    if (done >= total && total > 0)
        text += ", done in " + duration(elapsedSeconds);
    else if (secondsLeft >= 0)
        text += ", about " + duration(secondsLeft) + " left";
    return text;
}

IngestProgress::IngestProgress() : start_(std::chrono::steady_clock::now()) {}

IngestEstimate IngestProgress::update(const hip::Progress& progress) {
    return update(progress,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

IngestEstimate IngestProgress::update(const hip::Progress& progress, double elapsedSeconds) {
    IngestEstimate estimate;
    estimate.done = progress.done;
    estimate.total = progress.total;
    estimate.elapsedSeconds = elapsedSeconds;
    if (elapsedSeconds > 0) estimate.tokensPerSecond = double(progress.done) / elapsedSeconds;

    const double interval = elapsedSeconds - lastSeconds_;
    if (progress.done > lastDone_ && interval > 0) {
        const double rate = double(progress.done - lastDone_) / interval;
        // Weighs the last chunks most: a third of the estimate is renewed with every chunk.
        recentRate_ = recentRate_ > 0 ? 0.67 * recentRate_ + 0.33 * rate : rate;
        lastDone_ = progress.done;
        lastSeconds_ = elapsedSeconds;
    }
    if (recentRate_ > 0)
        estimate.secondsLeft =
            double(std::max<int64_t>(progress.total - progress.done, 0)) / recentRate_;
    return estimate;
}

} // namespace hip::doc
