#pragma once
// What every document a reader returns must satisfy, however hostile its file: pages in order
// within the text, outline entries on existing pages, and the lookups the app makes on them.
// A broken invariant aborts, which the fuzzer reports like a crash.

#include "document/document_text.h"

#include <hip/session.h>

#include <cstdlib>

namespace hipfuzz {

inline void checkDocument(const hip::doc::DocumentText& document) {
    uint64_t previous = 0;
    for (size_t p = 0; p < document.pages.size(); ++p) {
        const uint64_t begin = document.pages[p].textBegin;
        if (begin < previous || begin > document.text.size()) std::abort();
        previous = begin;
        (void)document.pageName(int(p));
        const hip::TextRange range = document.pageRange(int(p));
        (void)document.textOf(range);
        (void)document.pageOf(range);
    }
    for (const hip::doc::OutlineEntry& entry : document.outline)
        if (entry.page < -1 || entry.page >= int(document.pages.size())) std::abort();
    (void)document.pageAt(document.text.size());
    (void)document.textOf({0, document.text.size()});
}

} // namespace hipfuzz
