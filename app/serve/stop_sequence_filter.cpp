#include "stop_sequence_filter.h"

#include <algorithm>
#include <utility>

namespace serve {

StopSequenceFilter::StopSequenceFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {
    std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopSequenceFilter::feed(std::string_view piece) {
    if (stopped_) return {};
    pending_ += piece;
    size_t cut = std::string::npos;
    for (const std::string& stop : stops_)
        cut = std::min(cut, pending_.find(stop));
    if (cut != std::string::npos) {
        stopped_ = true;
        std::string before = pending_.substr(0, cut);
        pending_.clear();
        return before;
    }
    // Hold back the longest end of the text that begins some stop sequence.
    size_t held = 0;
    for (const std::string& stop : stops_)
        for (size_t length = std::min(stop.size() - 1, pending_.size()); length > held; --length)
            if (std::string_view(pending_).substr(pending_.size() - length) ==
                std::string_view(stop).substr(0, length)) {
                held = length;
                break;
            }
    std::string ready = pending_.substr(0, pending_.size() - held);
    pending_.erase(0, pending_.size() - held);
    return ready;
}

std::string StopSequenceFilter::finish() {
    if (stopped_) return {};
    return std::exchange(pending_, {});
}

} // namespace serve
