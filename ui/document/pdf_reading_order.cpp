#include "document/pdf_reading_order.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

namespace hip::doc {
namespace {

constexpr int kBins = 400;               // horizontal resolution of the coverage profile
constexpr float kMinGutterWidth = 0.01f; // about 6 points on A4; column gutters are wider
constexpr int kMaxDepth = 6;             // nested column splits; real pages need two or three

struct Gutter {
    float left = 0;
    float right = 0;
};

float centerX(const NormalizedRect& r) {
    return 0.5f * (r.left + r.right);
}
float centerY(const NormalizedRect& r) {
    return 0.5f * (r.top + r.bottom);
}
bool crossesGutter(const NormalizedRect& r, const Gutter& g) {
    return r.left < g.left && r.right > g.right;
}

void sortTopToBottom(std::vector<int>& ids, const std::vector<NormalizedRect>& boxes) {
    // Lines of one row (a table, a drop cap) have nearly the same top: rank them by a coarse
    // row first so they read left to right instead of by a fraction of a point.
    auto row = [&](int id) { return std::lround(centerY(boxes[size_t(id)]) / 0.004f); };
    std::sort(ids.begin(), ids.end(), [&](int a, int b) {
        const long ra = row(a), rb = row(b);
        if (ra != rb) return ra < rb;
        return boxes[size_t(a)].left < boxes[size_t(b)].left;
    });
}

// The widest vertical strip that at most a few lines cross and that has columns on both sides:
// each side at least two lines, side by side (their vertical extents overlap).
std::optional<Gutter> findGutter(const std::vector<int>& ids,
                                 const std::vector<NormalizedRect>& boxes) {
    std::array<int, kBins> coverage{};
    for (int id : ids) {
        const NormalizedRect& r = boxes[size_t(id)];
        const int first = std::clamp(int(r.left * kBins), 0, kBins - 1);
        const int last = std::clamp(int(std::ceil(r.right * kBins)) - 1, first, kBins - 1);
        for (int b = first; b <= last; ++b)
            ++coverage[size_t(b)];
    }
    // Lines crossing the strip (titles, captions, footnotes) may be many on a sparse page.
    const int allowedCrossings = std::max<int>(2, int(ids.size()) / 2);

    std::optional<Gutter> best;
    for (int b = 0; b < kBins;) {
        if (coverage[size_t(b)] > allowedCrossings) {
            ++b;
            continue;
        }
        int end = b;
        while (end < kBins && coverage[size_t(end)] <= allowedCrossings)
            ++end;
        const Gutter gutter{float(b) / kBins, float(end) / kBins};
        b = end;
        if (gutter.right - gutter.left < kMinGutterWidth) continue;
        if (best && gutter.right - gutter.left <= best->right - best->left) continue;

        int leftCount = 0, rightCount = 0;
        NormalizedRect leftExtent, rightExtent;
        for (int id : ids) {
            const NormalizedRect& r = boxes[size_t(id)];
            if (crossesGutter(r, gutter)) continue;
            const float middle = 0.5f * (gutter.left + gutter.right);
            if (centerX(r) < middle) {
                ++leftCount;
                leftExtent = leftExtent.united(r);
            } else {
                ++rightCount;
                rightExtent = rightExtent.united(r);
            }
        }
        if (leftCount < 2 || rightCount < 2) continue;
        const float overlap = std::min(leftExtent.bottom, rightExtent.bottom) -
                              std::max(leftExtent.top, rightExtent.top);
        if (overlap < 0.5f * std::min(leftExtent.height(), rightExtent.height())) continue;
        best = gutter;
    }
    return best;
}

void order(std::vector<int> ids, const std::vector<NormalizedRect>& boxes, int depth,
           std::vector<int>& out) {
    const std::optional<Gutter> gutter =
        ids.size() >= 4 && depth < kMaxDepth ? findGutter(ids, boxes) : std::nullopt;
    if (!gutter) {
        sortTopToBottom(ids, boxes);
        out.insert(out.end(), ids.begin(), ids.end());
        return;
    }
    std::vector<int> spanning;
    for (int id : ids)
        if (crossesGutter(boxes[size_t(id)], *gutter)) spanning.push_back(id);
    sortTopToBottom(spanning, boxes);

    // Band k holds the column lines between spanning lines k-1 and k.
    const float middle = 0.5f * (gutter->left + gutter->right);
    std::vector<std::vector<int>> left(spanning.size() + 1), right(spanning.size() + 1);
    for (int id : ids) {
        const NormalizedRect& r = boxes[size_t(id)];
        if (crossesGutter(r, *gutter)) continue;
        size_t band = 0;
        while (band < spanning.size() && centerY(boxes[size_t(spanning[band])]) < centerY(r))
            ++band;
        (centerX(r) < middle ? left : right)[band].push_back(id);
    }
    for (size_t band = 0; band <= spanning.size(); ++band) {
        order(std::move(left[band]), boxes, depth + 1, out);
        order(std::move(right[band]), boxes, depth + 1, out);
        if (band < spanning.size()) out.push_back(spanning[band]);
    }
}

} // namespace

std::vector<int> readingOrder(const std::vector<NormalizedRect>& lines) {
    std::vector<int> ids(lines.size());
    for (size_t i = 0; i < ids.size(); ++i)
        ids[i] = int(i);
    std::vector<int> out;
    out.reserve(lines.size());
    order(std::move(ids), lines, 0, out);
    return out;
}

} // namespace hip::doc
