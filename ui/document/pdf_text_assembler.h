#pragma once
// Joins the lines of PDF pages, already in reading order, into the text the model reads:
// lines of a paragraph with a space, paragraphs with a blank line, words split at a line end
// by a hyphen re-joined, ligatures spelled out. Every character keeps its box.

#include "document/document_builder.h"
#include "document/pdf_layout.h"

#include <optional>
#include <vector>

namespace hip::doc {

class PdfTextAssembler {
public:
    explicit PdfTextAssembler(DocumentBuilder& builder) : builder_(builder) {}

    // Starts `page` and appends its body lines (reading order); the first line may continue
    // the paragraph or the word the previous page ended with.
    void addPage(DocumentPage page, const std::vector<const LayoutLine*>& lines);
    // Appends what is still held back (a hyphen at the very end).
    void finish();

private:
    struct Metrics {
        float em = 0;    // typical line height on the page
        float pitch = 0; // typical distance between the tops of consecutive lines of a paragraph
    };
    // A dash at the end of a line, held back until the next line shows whether it splits a word.
    struct HeldDash {
        char32_t character = 0;
        NormalizedRect box;
        bool droppable = false; // a hyphen inside a word, dropped when the word continues
    };

    static Metrics measure(const std::vector<const LayoutLine*>& lines);
    bool startsParagraph(const LayoutLine& line, const LayoutLine* next, bool newPage,
                         const Metrics& metrics) const;
    void join(bool paragraph, const LayoutLine& line);
    void appendLine(const LayoutLine& line);
    void appendCharacter(char32_t character, const NormalizedRect& box);

    DocumentBuilder& builder_;
    const LayoutLine* previous_ = nullptr;       // the last line appended
    const LayoutLine* beforePrevious_ = nullptr; // the line before it, when in the same column
    size_t previousPage_ = 0;                    // the page of previous_
    std::optional<HeldDash> held_;
};

} // namespace hip::doc
