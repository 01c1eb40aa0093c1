#include "common/zoom_range.h"

#include <algorithm>
#include <utility>

namespace hip::ui {

void ZoomRange::setExtent(double min, double max, double minSpan) {
    min_ = min;
    max_ = std::max(min, max);
    minSpan_ = std::clamp(minSpan, 0.0, max_ - min_);
    reset();
}

void ZoomRange::show(double from, double to) {
    if (from > to) std::swap(from, to);
    const double span = std::clamp(to - from, minSpan_, max_ - min_);
    const double middle = (from + to) / 2;
    viewMin_ = std::clamp(middle - span / 2, min_, max_ - span);
    viewMax_ = viewMin_ + span;
}

void ZoomRange::zoomAt(double anchor, double factor) {
    if (!(factor > 0)) return;
    const double span = std::clamp(viewSpan() * factor, minSpan_, max_ - min_);
    const double before = viewSpan() > 0 ? (anchor - viewMin_) / viewSpan() : 0.5;
    const double start = anchor - before * span;
    viewMin_ = std::clamp(start, min_, max_ - span);
    viewMax_ = viewMin_ + span;
}

void ZoomRange::pan(double delta) {
    const double span = viewSpan();
    viewMin_ = std::clamp(viewMin_ + delta, min_, max_ - span);
    viewMax_ = viewMin_ + span;
}

} // namespace hip::ui
