#include "source_eval/planted_book.h"

#include <QRegularExpression>

#include <algorithm>
#include <array>
#include <numeric>
#include <random>

namespace hip::sources {
namespace {

// Code words that are not English prose words in capitals, so the filler never holds one.
constexpr std::array kCodeWords = {
    "PELICAN", "ORCHID",  "WALRUS",    "JUNIPER", "FALCON",   "MAGNOLIA", "OTTER",     "SAFFRON",
    "BADGER",  "CYPRESS", "HERON",     "TULIP",   "PANTHER",  "CINNAMON", "MARLIN",    "LILAC",
    "BEAVER",  "NUTMEG",  "CONDOR",    "HAZEL",   "PUFFIN",   "THISTLE",  "JAGUAR",    "GINGER",
    "KESTREL", "POPPY",   "BISON",     "FENNEL",  "OSPREY",   "LYNX",     "MAPLE",     "PLOVER",
    "CLOVER",  "GAZELLE", "CORMORANT", "LAUREL",  "MONGOOSE", "PAPRIKA",  "WOLVERINE", "SORREL"};
// The things the code words belong to: no word is shared between two of them, so a question
// names one fact only.
constexpr std::array kThings = {
    "blue door",     "iron gate",     "oak chest",     "brass lamp",    "glass box",
    "copper bell",   "silver key",    "stone tower",   "paper kite",    "wooden boat",
    "velvet purse",  "marble statue", "leather trunk", "crystal vase",  "golden clock",
    "tin whistle",   "woollen scarf", "clay jar",      "bronze shield", "ivory comb",
    "red umbrella",  "green lantern", "pewter mug",    "straw hat",     "linen map",
    "cedar cabinet", "steel anchor",  "amber ring",    "cotton flag",   "granite bench",
    "silk ribbon",   "bamboo flute",  "rusty wagon",   "painted fan",   "hollow drum",
    "frozen pond",   "narrow bridge", "broken mirror", "secret tunnel", "northern window"};
static_assert(kThings.size() == kCodeWords.size(), "every fact needs its own thing");

// The sentence and its question; %1 is the thing ("blue door"), %2 the code word.
struct FactTemplate {
    const char* statement;
    const char* question;
};
constexpr std::array kTemplates = {
    FactTemplate{"The code word for the %1 is %2.", "What is the code word for the %1?"},
    FactTemplate{"The password that opens the %1 is %2.",
                 "What is the password that opens the %1?"},
    FactTemplate{"The secret name of the %1 is %2.", "What is the secret name of the %1?"},
};

struct Sentence {
    QString text;
    int words = 0;
};

int wordCount(const QString& text) {
    return int(text.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
}

// The filler's prose as sentences: paragraphs of at least 30 words (headings, tables and
// captions are shorter), without italics marks, cut after '.', '!' or '?' before a capital;
// sentences too long for a page are left out.
std::vector<Sentence> fillerSentences(const QString& filler, int wordsPerPage) {
    static const QRegularExpression paragraphBreak(QStringLiteral("\\n\\s*\\n"));
    static const QRegularExpression sentenceEnd(QStringLiteral("(?<=[.!?])\\s+(?=[A-Z])"));
    std::vector<Sentence> sentences;
    for (QString paragraph : filler.split(paragraphBreak, Qt::SkipEmptyParts)) {
        paragraph = paragraph.remove(QLatin1Char('_')).simplified();
        if (wordCount(paragraph) < 30) continue;
        for (const QString& text : paragraph.split(sentenceEnd, Qt::SkipEmptyParts)) {
            const int words = wordCount(text);
            if (words > 0 && words <= wordsPerPage / 4) sentences.push_back({text, words});
        }
    }
    return sentences;
}

} // namespace

int maxPlantedFacts() {
    return int(kCodeWords.size());
}

hip::Result<PlantedBook> plantBook(const QString& filler, int pageCount, int factCount,
                                   uint64_t seed, int wordsPerPage) {
    if (pageCount < 1) return makeError(ErrorCode::InvalidArgument, "a book needs a page");
    if (factCount < 1 || factCount > std::min(pageCount, maxPlantedFacts()))
        return makeError(ErrorCode::InvalidArgument,
                         "a book of " + std::to_string(pageCount) + " pages holds 1 to " +
                             std::to_string(std::min(pageCount, maxPlantedFacts())) +
                             " planted facts, not " + std::to_string(factCount));
    const std::vector<Sentence> sentences = fillerSentences(filler, wordsPerPage);
    int fillerWords = 0;
    for (const Sentence& s : sentences)
        fillerWords += s.words;
    if (fillerWords < 2 * wordsPerPage)
        return makeError(ErrorCode::InvalidArgument,
                         "the filler text has too little prose (paragraphs of at least 30 words) "
                         "for a page");

    std::mt19937_64 random(seed);
    // Each fact gets its own code word and thing; templates take turns.
    std::vector<int> words(kCodeWords.size()), things(kThings.size());
    std::iota(words.begin(), words.end(), 0);
    std::iota(things.begin(), things.end(), 0);
    std::shuffle(words.begin(), words.end(), random);
    std::shuffle(things.begin(), things.end(), random);

    PlantedBook book;
    book.title = QStringLiteral("Planted facts, %1 pages").arg(pageCount);
    for (int f = 0; f < factCount; ++f) {
        const FactTemplate& form = kTemplates[size_t(f) % kTemplates.size()];
        const QString named = QLatin1String(kThings[size_t(things[size_t(f)])]);
        const QString word = QLatin1String(kCodeWords[size_t(words[size_t(f)])]);
        // Spread evenly: fact f sits in the middle of the f-th of factCount equal stretches.
        const int page = int((2 * int64_t(f) + 1) * pageCount / (2 * int64_t(factCount)));
        book.facts.push_back({QString::fromLatin1(form.statement).arg(named, word),
                              QString::fromLatin1(form.question).arg(named), word, page});
    }

    const int paragraphWords = std::max(40, wordsPerPage / 4);
    size_t next = size_t(random() % sentences.size());
    size_t fact = 0;
    for (int page = 0; page < pageCount; ++page) {
        const bool planted = fact < book.facts.size() && book.facts[fact].page == page;
        // The first page shares its room with the title.
        const int room = page == 0 ? wordsPerPage / 2 : wordsPerPage;
        const int budget = room - (planted ? wordCount(book.facts[fact].statement) : 0);
        std::vector<std::vector<QString>> paragraphs(1);
        int pageWords = 0, inParagraph = 0;
        while (true) {
            const Sentence& s = sentences[next];
            if (pageWords + s.words > budget) break;
            if (inParagraph >= paragraphWords) {
                paragraphs.emplace_back();
                inParagraph = 0;
            }
            paragraphs.back().push_back(s.text);
            pageWords += s.words;
            inParagraph += s.words;
            next = (next + 1) % sentences.size();
        }
        if (planted) {
            auto& paragraph = paragraphs[size_t(random() % paragraphs.size())];
            const auto at = ptrdiff_t(random() % (paragraph.size() + 1));
            paragraph.insert(paragraph.begin() + at, book.facts[fact].statement);
            ++fact;
        }
        doc::BookSection section;
        for (const auto& paragraph : paragraphs)
            section.paragraphs << QStringList(paragraph.begin(), paragraph.end()).join(u' ');
        book.pages.push_back(std::move(section));
    }
    return book;
}

hip::Result<std::vector<int>> locateFacts(const doc::DocumentText& document,
                                          const PlantedBook& book) {
    auto isWordByte = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    };
    if (document.pages.size() != book.pages.size())
        return makeError(ErrorCode::InvalidArgument,
                         "the book of " + std::to_string(book.pages.size()) +
                             " pages was read back as " + std::to_string(document.pages.size()) +
                             " pages: its pages hold too many words");
    const std::string& text = document.text;
    std::vector<int> pages;
    for (const PlantedFact& fact : book.facts) {
        const std::string word = fact.answer.toStdString();
        std::vector<size_t> found;
        for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
            const size_t end = at + word.size();
            if ((at == 0 || !isWordByte(text[at - 1])) &&
                (end == text.size() || !isWordByte(text[end])))
                found.push_back(at);
        }
        if (found.size() != 1)
            return makeError(ErrorCode::InvalidArgument,
                             "the code word " + word + " of the fact planted on page " +
                                 std::to_string(fact.page + 1) + " is " +
                                 (found.empty() ? "missing from" : "found more than once in") +
                                 " the text read back from the PDF");
        pages.push_back(document.pageAt(uint64_t(found.front())));
    }
    return pages;
}

} // namespace hip::sources
