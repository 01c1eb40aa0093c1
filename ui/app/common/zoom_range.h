#pragma once
// The part of an axis a view shows: a range within the data's extent that zooms about a point,
// zooms onto a chosen stretch, pans and resets, never leaving the extent nor becoming narrower
// than a least span (a page of a book, a token of a context).

namespace hip::ui {

class ZoomRange {
public:
    // The whole axis, showing all of it. `minSpan` is clipped to the extent.
    void setExtent(double min, double max, double minSpan);

    double min() const { return min_; }
    double max() const { return max_; }
    double viewMin() const { return viewMin_; }
    double viewMax() const { return viewMax_; }
    double viewSpan() const { return viewMax_ - viewMin_; }
    bool isZoomed() const { return viewMin_ > min_ || viewMax_ < max_; }

    // Scales the view by `factor` (< 1 zooms in) keeping `anchor` where it is on screen.
    void zoomAt(double anchor, double factor);
    // Shows [from, to] (in either order), widened about its middle to the least span.
    void show(double from, double to);
    // Moves the view by `delta`, stopping at the extent's ends.
    void pan(double delta);
    void reset() { show(min_, max_); }

    // Where `fraction` (0 the view's start, 1 its end) of the view lies on the axis.
    double valueAt(double fraction) const { return viewMin_ + fraction * viewSpan(); }

private:
    double min_ = 0;
    double max_ = 1;
    double minSpan_ = 0;
    double viewMin_ = 0;
    double viewMax_ = 1;
};

} // namespace hip::ui
