#pragma once
// The order in which a page's lines are read: columns one after another, top to bottom within
// each, and lines that span the columns (titles, captions) where they stand between them.
//
// Poppler's own order interleaves two columns whose paragraph gaps line up (it reads them row by
// row), so the lines are re-ordered here by a recursive cut along the widest gutter, splitting
// into horizontal bands only at lines that cross that gutter.

#include "document/normalized_rect.h"

#include <vector>

namespace hip::doc {

// Indexes into `lines` in reading order.
std::vector<int> readingOrder(const std::vector<NormalizedRect>& lines);

} // namespace hip::doc
