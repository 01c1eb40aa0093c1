#pragma once
// A book to measure cited pages with: pages of filler prose, and facts planted on known pages,
// each with the question that asks for it. Facts are code words ("The code word for the blue
// door is PELICAN."), which even the default 135M model can retrieve, so the ranking of pages is
// measured on answers the model can give.

#include "document/book_pdf_writer.h"
#include "document/document_text.h"

#include <hip/status.h>

#include <QString>

#include <cstdint>
#include <vector>

namespace hip::sources {

struct PlantedFact {
    QString statement; // the sentence planted in the filler
    QString question;
    QString answer; // the code word: a correct answer names it
    int page = -1;  // 0-based page of the book it is planted on
};

struct PlantedBook {
    QString title;
    std::vector<doc::BookSection> pages; // one section per page, starting a page each
    std::vector<PlantedFact> facts;      // in page order
};

// How many facts one book can hold: each has its own code word and its own door, box or gate.
int maxPlantedFacts();

// `pageCount` pages of about `wordsPerPage` words (what an A5 page of writeBookPdf holds; the
// first, under the title, half as many) of `filler` (plain prose; paragraphs are
// separated by blank lines, "_" italics marks are dropped, and it repeats from a point chosen by
// `seed` when the book needs more), with `factCount` facts spread evenly over the pages, each
// inside a paragraph at a place chosen by `seed`.
hip::Result<PlantedBook> plantBook(const QString& filler, int pageCount, int factCount,
                                   uint64_t seed, int wordsPerPage = 120);

// Where each fact's code word is in the text as read back: the page per fact, in the order of
// `book.facts`. An error when the pages did not come back one for one (a page overflowed) or a
// code word is missing or found twice (the filler used it).
hip::Result<std::vector<int>> locateFacts(const doc::DocumentText& document,
                                          const PlantedBook& book);

} // namespace hip::sources
