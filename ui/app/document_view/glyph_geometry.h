#pragma once
// Geometry over the characters of one page (ascending by byte): the boxes of a text range merged
// into one per stretch of a line, and the character under (or nearest to) a point.

#include "document/document_text.h"

#include <QPointF>

#include <optional>
#include <span>
#include <vector>

namespace hip::ui {

// The glyphs of `all` whose bytes lie in `range`.
std::span<const doc::Glyph> glyphsIn(std::span<const doc::Glyph> all, hip::TextRange range);

std::vector<doc::NormalizedRect> lineBoxes(std::span<const doc::Glyph> pageGlyphs,
                                           hip::TextRange range);

// The byte of the glyph containing `point`, else of the nearest one on the nearest line; for a
// point right of a glyph's centre the byte after it, so a drag selects whole characters.
std::optional<uint64_t> byteNear(std::span<const doc::Glyph> pageGlyphs, QPointF point,
                                 uint64_t pageEnd);

} // namespace hip::ui
