#include "document_view/text_search.h"

#include "handoff/run.h"

#include <QRegularExpression>

namespace hip::ui {

std::vector<hip::TextRange> findAll(const doc::DocumentText& document, const QString& phrase,
                                    Qt::CaseSensitivity sensitivity) {
    std::vector<hip::TextRange> hits;
    const QStringList words = phrase.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (words.isEmpty()) return hits;
    QStringList escaped;
    for (const QString& word : words)
        escaped << QRegularExpression::escape(word);
    QRegularExpression pattern(escaped.join(QStringLiteral("\\s+")),
                               sensitivity == Qt::CaseInsensitive
                                   ? QRegularExpression::CaseInsensitiveOption
                                   : QRegularExpression::NoPatternOption);
    const QString text = QString::fromStdString(document.text);
    // Match positions are UTF-16 units; the rest of the program speaks UTF-8 bytes. Walk forward
    // once, converting only the stretches between matches.
    qsizetype unit = 0;
    uint64_t byte = 0;
    auto advance = [&](qsizetype to) {
        byte += uint64_t(QStringView(text).mid(unit, to - unit).toUtf8().size());
        unit = to;
    };
    for (auto it = pattern.globalMatch(text); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        advance(match.capturedStart());
        const uint64_t begin = byte;
        advance(match.capturedEnd());
        hits.push_back({begin, byte});
    }
    return hits;
}

TextSearch::TextSearch(QObject* parent) : QObject(parent) {
    connect(&watcher_, &QFutureWatcher<handoff::Handed<std::vector<hip::TextRange>>>::finished,
            this, [this] {
                if (!watcher_.isCanceled()) emit found(phrase_, watcher_.result().value());
            });
}

TextSearch::~TextSearch() {
    watcher_.waitForFinished();
}

void TextSearch::setDocument(DocumentPtr document) {
    document_ = std::move(document);
}

void TextSearch::search(const QString& phrase, Qt::CaseSensitivity sensitivity) {
    phrase_ = phrase;
    if (!document_ || phrase.trimmed().isEmpty()) {
        emit found(phrase, {});
        return;
    }
    // Setting a new future makes the watcher forget the old one's result.
    watcher_.setFuture(handoff::run([document = document_, phrase, sensitivity] {
        return findAll(*document, phrase, sensitivity);
    }));
}

} // namespace hip::ui
