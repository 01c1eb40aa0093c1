#pragma once
// A rectangle on a page in normalized coordinates: x and y run from 0 to 1 across the page's
// width and height, top-left origin (the Okular convention), so overlays survive zoom and DPI.

#include <algorithm>

namespace hip::doc {

struct NormalizedRect {
    // float keeps a book's per-character boxes at 16 bytes each; 1e-7 of a page is far below a
    // device pixel.
    float left = 0;
    float top = 0;
    float right = 0;
    float bottom = 0;

    float width() const { return right - left; }
    float height() const { return bottom - top; }
    bool isNull() const { return right <= left || bottom <= top; }

    NormalizedRect united(const NormalizedRect& other) const {
        if (isNull()) return other;
        if (other.isNull()) return *this;
        return {std::min(left, other.left), std::min(top, other.top), std::max(right, other.right),
                std::max(bottom, other.bottom)};
    }
    bool overlapsHorizontally(const NormalizedRect& other) const {
        return left < other.right && other.left < right;
    }
    // Whether the rectangle lies on the page, allowing for rounding at its edges.
    bool isOnPage() const {
        constexpr float slack = 1e-4f;
        return left >= -slack && top >= -slack && right <= 1 + slack && bottom <= 1 + slack;
    }

    friend bool operator==(const NormalizedRect&, const NormalizedRect&) = default;
};

} // namespace hip::doc
