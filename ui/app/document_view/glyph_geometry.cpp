#include "document_view/glyph_geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hip::ui {
namespace {

// Two boxes are on one line when they overlap vertically by most of the smaller height, and in
// one stretch when the gap between them is less than about a character.
bool sameStretch(const doc::NormalizedRect& a, const doc::NormalizedRect& b) {
    const float overlap = std::min(a.bottom, b.bottom) - std::max(a.top, b.top);
    const float height = std::min(a.height(), b.height());
    if (height <= 0 || overlap < 0.5f * height) return false;
    const float gap = b.left - a.right;
    return gap < 1.5f * height && gap > -0.5f * height;
}

} // namespace

std::span<const doc::Glyph> glyphsIn(std::span<const doc::Glyph> all, hip::TextRange range) {
    const auto byByte = [](const doc::Glyph& g, uint64_t byte) { return g.byte < byte; };
    const auto first = std::lower_bound(all.begin(), all.end(), range.begin, byByte);
    const auto last = std::lower_bound(first, all.end(), range.end, byByte);
    return {first, last};
}

std::vector<doc::NormalizedRect> lineBoxes(std::span<const doc::Glyph> pageGlyphs,
                                           hip::TextRange range) {
    std::vector<doc::NormalizedRect> boxes;
    for (const doc::Glyph& g : glyphsIn(pageGlyphs, range)) {
        if (g.box.isNull()) continue;
        if (!boxes.empty() && sameStretch(boxes.back(), g.box))
            boxes.back() = boxes.back().united(g.box);
        else
            boxes.push_back(g.box);
    }
    return boxes;
}

std::optional<uint64_t> byteNear(std::span<const doc::Glyph> pageGlyphs, QPointF point,
                                 uint64_t pageEnd) {
    const auto x = float(point.x());
    const auto y = float(point.y());
    const doc::Glyph* best = nullptr;
    float bestLine = std::numeric_limits<float>::max();
    float bestColumn = std::numeric_limits<float>::max();
    for (const doc::Glyph& g : pageGlyphs) {
        if (g.box.isNull()) continue;
        // Distance to the line first (so a point in a margin picks its own line), then along it.
        const float line =
            y < g.box.top ? g.box.top - y : (y > g.box.bottom ? y - g.box.bottom : 0);
        const float column =
            x < g.box.left ? g.box.left - x : (x > g.box.right ? x - g.box.right : 0);
        if (line < bestLine - 1e-4f ||
            (std::abs(line - bestLine) <= 1e-4f && column < bestColumn)) {
            best = &g;
            bestLine = line;
            bestColumn = column;
        }
    }
    if (!best) return std::nullopt;
    if (x <= (best->box.left + best->box.right) / 2) return best->byte;
    // The byte after the glyph: the next glyph's first byte, or the page's end.
    const auto next = best + 1;
    return next < pageGlyphs.data() + pageGlyphs.size() ? next->byte : pageEnd;
}

} // namespace hip::ui
