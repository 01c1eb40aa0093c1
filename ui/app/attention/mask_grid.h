#pragma once
// The mask view's cells: HiP's selections of one layer gathered into columns over the key
// positions a view shows and rows of generated tokens, no more of either than there are pixels
// to draw them, so that a thousand-page book costs what a page does.

#include "bridge/bridge_types.h"

#include <cstdint>
#include <vector>

namespace hip::ui {

// Column edges over the key positions [begin, end): whole pages (several to a column when the
// view holds more pages than `maxColumns`) while a page is narrower than kSplitPagePixels; closer
// in, each page is split into columns of about kSplitColumnPixels. The book's header and the
// conversation after it count as pages of their own; without a book, the context is one page.
// Edges ascend from `begin` to `end`.
inline constexpr int kSplitPagePixels = 8;
inline constexpr int kSplitColumnPixels = 2;
std::vector<int64_t> maskColumns(const AttentionMask& mask, int64_t begin, int64_t end,
                                 int maxColumns);

struct MaskGrid {
    std::vector<int64_t> edges; // KV positions: column c holds [edges[c], edges[c + 1])
    int rowsPerCell = 1;        // generated tokens gathered into one row of cells
    int rows = 0;
    // rows * columns(), row-major: the share of a cell's keys HiP selected, and the share that
    // are sinks or the window (always attended), averaged over the cell's generated tokens.
    std::vector<float> selected;
    std::vector<float> always;

    int columns() const { return edges.empty() ? 0 : int(edges.size()) - 1; }
    float selectedAt(int row, int column) const { return selected[index(row, column)]; }
    float alwaysAt(int row, int column) const { return always[index(row, column)]; }
    // The column holding KV position `position`; -1 outside the edges.
    int columnAt(int64_t position) const;

private:
    size_t index(int row, int column) const { return size_t(row) * size_t(columns()) + column; }
};

// Gathers `mask` into the columns `edges` and at most `maxRows` rows.
MaskGrid maskGrid(const AttentionMask& mask, std::vector<int64_t> edges, int maxRows);

} // namespace hip::ui
