#include "attention/mask_grid.h"

#include <algorithm>

namespace hip::ui {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// Where the pages of the context start and end, clipped to [begin, end]: the header before the
// book, each page, and the conversation after it.
std::vector<int64_t> pageBounds(const AttentionMask& mask, int64_t begin, int64_t end) {
    std::vector<int64_t> bounds{begin};
    auto add = [&](int64_t position) {
        if (position > bounds.back() && position < end) bounds.push_back(position);
    };
    if (!mask.pageStarts.empty()) {
        add(mask.documentBegin);
        for (const int64_t start : mask.pageStarts)
            add(start);
        add(mask.documentEnd);
    }
    bounds.push_back(end);
    return bounds;
}

// Adds to `cells` (one row of the grid) the share of each column that [begin, end) covers.
void cover(const std::vector<int64_t>& edges, int64_t begin, int64_t end, float* cells) {
    begin = std::max(begin, edges.front());
    end = std::min(end, edges.back());
    if (begin >= end) return;
    auto column = size_t(std::upper_bound(edges.begin(), edges.end(), begin) - edges.begin()) - 1;
    for (; column + 1 < edges.size() && edges[column] < end; ++column) {
        const int64_t covered = std::min(end, edges[column + 1]) - std::max(begin, edges[column]);
        cells[column] += float(double(covered) / double(edges[column + 1] - edges[column]));
    }
}

} // namespace

std::vector<int64_t> maskColumns(const AttentionMask& mask, int64_t begin, int64_t end,
                                 int maxColumns) {
    begin = std::clamp<int64_t>(begin, 0, mask.contextTokens);
    end = std::clamp<int64_t>(end, begin, mask.contextTokens);
    maxColumns = std::max(1, maxColumns);
    if (begin == end) return {};
    const std::vector<int64_t> bounds = pageBounds(mask, begin, end);
    const int64_t pages = int64_t(bounds.size()) - 1;
    std::vector<int64_t> edges;
    if (pages * kSplitPagePixels > maxColumns) {
        const int64_t perColumn = ceilDiv(pages, maxColumns);
        for (int64_t page = 0; page < pages; page += perColumn)
            edges.push_back(bounds[size_t(page)]);
        edges.push_back(end);
        return edges;
    }
    const int64_t tokensPerColumn =
        std::max<int64_t>(1, ceilDiv((end - begin) * kSplitColumnPixels, maxColumns));
    for (size_t page = 0; page + 1 < bounds.size(); ++page) {
        const int64_t length = bounds[page + 1] - bounds[page];
        const int64_t parts = ceilDiv(length, tokensPerColumn);
        for (int64_t part = 0; part < parts; ++part)
            edges.push_back(bounds[page] + length * part / parts);
    }
    edges.push_back(end);
    return edges;
}

int MaskGrid::columnAt(int64_t position) const {
    if (edges.empty() || position < edges.front() || position >= edges.back()) return -1;
    return int(std::upper_bound(edges.begin(), edges.end(), position) - edges.begin()) - 1;
}

MaskGrid maskGrid(const AttentionMask& mask, std::vector<int64_t> edges, int maxRows) {
    MaskGrid grid;
    grid.edges = std::move(edges);
    const int64_t tokens = int64_t(mask.queries.size());
    if (grid.columns() <= 0 || tokens == 0) return grid;
    grid.rowsPerCell = int(ceilDiv(tokens, std::max(1, maxRows)));
    grid.rows = int(ceilDiv(tokens, grid.rowsPerCell));
    const size_t columns = size_t(grid.columns());
    grid.selected.assign(size_t(grid.rows) * columns, 0.0f);
    grid.always.assign(size_t(grid.rows) * columns, 0.0f);
    for (int64_t token = 0; token < tokens; ++token) {
        const size_t row = size_t(token / grid.rowsPerCell);
        float* selected = grid.selected.data() + row * columns;
        float* always = grid.always.data() + row * columns;
        for (const hip::KeyRange& range : mask.ranges[size_t(token)])
            cover(grid.edges, range.begin, range.end, selected);
        const int64_t query = mask.queries[size_t(token)];
        const int64_t sinkEnd = std::min<int64_t>(mask.sinkTokens, query + 1);
        const int64_t windowBegin = std::max(sinkEnd, query + 1 - mask.windowTokens);
        cover(grid.edges, 0, sinkEnd, always);
        cover(grid.edges, windowBegin, query + 1, always);
    }
    for (int row = 0; row < grid.rows; ++row) {
        const int64_t inRow =
            std::min<int64_t>(grid.rowsPerCell, tokens - int64_t(row) * grid.rowsPerCell);
        const float scale = 1.0f / float(inRow);
        for (size_t c = 0; c < columns; ++c) {
            float& s = grid.selected[size_t(row) * columns + c];
            float& a = grid.always[size_t(row) * columns + c];
            s = std::min(1.0f, s * scale);
            a = std::min(1.0f, a * scale);
        }
    }
    return grid;
}

} // namespace hip::ui
