#include "source_eval/source_scores.h"

namespace hip::sources {

bool namesCodeWord(std::string_view answer, const QString& codeWord) {
    const QString text = QString::fromUtf8(answer.data(), qsizetype(answer.size()));
    for (qsizetype at = text.indexOf(codeWord, 0, Qt::CaseInsensitive); at >= 0;
         at = text.indexOf(codeWord, at + 1, Qt::CaseInsensitive)) {
        const qsizetype end = at + codeWord.size();
        if ((at == 0 || !text[at - 1].isLetterOrNumber()) &&
            (end == text.size() || !text[end].isLetterOrNumber()))
            return true;
    }
    return false;
}

int citedRank(int page, const std::vector<doc::PageAttention>& cited) {
    for (size_t i = 0; i < cited.size(); ++i)
        if (cited[i].page == page) return int(i) + 1;
    return 0;
}

void SourceScores::add(const FactScore& score) {
    ++facts;
    correct += score.correct ? 1 : 0;
    pageAt1 += score.rank == 1 ? 1 : 0;
    pageAt3 += score.rank >= 1 && score.rank <= 3 ? 1 : 0;
}

namespace {
double share(int count, int total) {
    return total > 0 ? double(count) / double(total) : 0.0;
}
} // namespace

double SourceScores::accuracy() const {
    return share(correct, facts);
}
double SourceScores::shareAt1() const {
    return share(pageAt1, facts);
}
double SourceScores::shareAt3() const {
    return share(pageAt3, facts);
}

} // namespace hip::sources
