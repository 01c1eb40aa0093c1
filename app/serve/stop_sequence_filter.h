#pragma once
// Cuts streamed text at the first of a request's stop sequences. Text that could be the start of
// a stop sequence is held back until the next piece shows whether it is one, so a client never
// receives part of a stop sequence.

#include <string>
#include <string_view>
#include <vector>

namespace serve {

class StopSequenceFilter {
public:
    explicit StopSequenceFilter(std::vector<std::string> stops);

    // Takes the next piece of text and returns what may be sent now. After a stop sequence is
    // found, returns the text before it and stopped() is true; later pieces are ignored.
    std::string feed(std::string_view piece);
    // The text held back at the end of the answer (no stop sequence followed it).
    std::string finish();
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

} // namespace serve
