#pragma once
// The format-independent document model: the text the model reads (UTF-8, what Session::ingest
// takes and what token byte ranges index) and, for every character that is ink on a page, its
// page and box. Backends fill it; token mapping, passages, citations and attention heat read it.

#include "document/document_page.h"
#include "document/normalized_rect.h"
#include "document/outline_entry.h"

#include <hip/session.h>

#include <QString>
#include <QStringList>

#include <cstdint>
#include <string>
#include <vector>

namespace hip::doc {

// A character of the text with a place on a page. Characters the reader inserted (spaces between
// words, paragraph breaks) and those of reflowable formats have none.
struct Glyph {
    uint32_t byte = 0; // first byte of the character in DocumentText::text
    NormalizedRect box;
};

// What a page is called in messages and the UI.
enum class PageUnit { Page, Chapter };

// Boxes on one page, merged into one per stretch of a line.
struct PageArea {
    int page = -1;
    std::vector<NormalizedRect> boxes;
};

struct DocumentText {
    QString title;
    QString format; // "PDF", "EPUB", "text", "Markdown"
    PageUnit unit = PageUnit::Page;
    std::string text;
    std::vector<DocumentPage> pages; // in order; their text ranges are contiguous
    std::vector<Glyph> glyphs;       // ascending by byte; empty for reflowable formats
    std::vector<OutlineEntry> outline;
    QStringList warnings; // what was read with trouble, naming the pages

    // The page holding `byte` (the last page for the end of the text); -1 without pages.
    int pageAt(uint64_t byte) const;
    // The page a token's bytes belong to: that of its last byte, since a token's leading
    // whitespace (" word", "\n\nWord") may still be the end of the previous page.
    int pageOf(hip::TextRange range) const;
    // Bytes of the text on `page`.
    hip::TextRange pageRange(int page) const;
    // "page 12" (with its label when it differs from its number) or "chapter 3, Title".
    QString pageName(int page) const;
    // The boxes of the glyphs in `range`, per page, merged along lines.
    std::vector<PageArea> areasOf(hip::TextRange range) const;
    // The text of `range`, widened to whole UTF-8 characters (token ranges may split one).
    QString textOf(hip::TextRange range) const;
    // The text of `range` on one line, whitespace collapsed, cut at a word to `maxChars` with "…".
    QString quote(hip::TextRange range, int maxChars) const;
};

} // namespace hip::doc
