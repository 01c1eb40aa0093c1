#pragma once
// Finds every occurrence of a phrase in the document text, off the GUI thread: a long book takes
// a moment, and typing must not stutter. Matching ignores case (unless asked) and treats any run
// of whitespace as one space, because a PDF's line breaks sit where the printed lines ended.

#include "bridge/bridge_types.h"
#include "handoff/handoff.h"

#include <hip/session.h>

#include <QFutureWatcher>
#include <QObject>

#include <vector>

namespace hip::ui {

std::vector<hip::TextRange> findAll(const doc::DocumentText& document, const QString& phrase,
                                    Qt::CaseSensitivity sensitivity);

class TextSearch final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TextSearch)

public:
    explicit TextSearch(QObject* parent = nullptr);
    ~TextSearch() override;

    void setDocument(DocumentPtr document);
    // Starts a search; an earlier one still running is superseded (its result is dropped).
    void search(const QString& phrase, Qt::CaseSensitivity sensitivity);

signals:
    void found(const QString& phrase, const std::vector<hip::TextRange>& hits);

private:
    DocumentPtr document_;
    QFutureWatcher<handoff::Handed<std::vector<hip::TextRange>>> watcher_;
    QString phrase_;
};

} // namespace hip::ui
