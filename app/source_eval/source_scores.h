#pragma once
// How well an answer and its cited pages match a planted fact, and the totals over many facts:
// answers correct, the fact's page first among the cited pages (page@1), among the first three
// (page@3). Page ranking is scored whether or not the answer was right.

#include "document/passage.h"

#include <QString>

#include <string_view>
#include <vector>

namespace hip::sources {

// Whether `answer` names `codeWord` as a word of its own, in any case ("Pelican." names PELICAN;
// "PELICANS" does not).
bool namesCodeWord(std::string_view answer, const QString& codeWord);

// The 1-based place of `page` among `cited` (best first); 0 when it is not cited.
int citedRank(int page, const std::vector<doc::PageAttention>& cited);

struct FactScore {
    bool correct = false;
    int rank = 0; // of the fact's page among the cited pages; 0 when not cited
};

struct SourceScores {
    int facts = 0;
    int correct = 0;
    int pageAt1 = 0;
    int pageAt3 = 0;

    void add(const FactScore& score);
    // Shares of the facts, 0..1 (0 when there are none).
    double accuracy() const;
    double shareAt1() const;
    double shareAt3() const;
};

} // namespace hip::sources
