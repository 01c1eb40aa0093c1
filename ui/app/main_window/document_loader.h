#pragma once
// Opens a document off the GUI thread: reads its text and character boxes (hipdocument), hashes
// it (the key its chat is saved under) and prepares its pages for display. A password-protected
// PDF asks for its password in a dialog on the GUI thread while the reader waits.

#include "bridge/bridge_types.h"
#include "document_view/page_source.h"
#include "handoff/handoff.h"

#include <hip/cancel.h>

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <memory>

class QWidget;

namespace hip::ui {

struct OpenedDocument {
    QString path;
    QString key; // hex SHA-256 of the file
    DocumentPtr text;
    std::shared_ptr<const PageSource> pages;
};

class DocumentLoader final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentLoader)

public:
    // `dialogParent` parents the password dialog.
    explicit DocumentLoader(QWidget* dialogParent, QObject* parent = nullptr);
    ~DocumentLoader() override;

    // Starts opening `path`; an open still running is cancelled and its result dropped.
    void open(const QString& path);
    void cancel();

signals:
    void progress(const QString& path, qint64 pagesDone, qint64 pagesTotal);
    void opened(const hip::ui::OpenedDocument& document);
    void failed(const QString& path, const QString& message);

private:
    struct Outcome {
        std::optional<OpenedDocument> document;
        QString error;
        bool cancelled = false;
    };
    std::optional<QString> askPassword(const QString& fileName, bool previousWasWrong);

    QWidget* dialogParent_;
    QFutureWatcher<handoff::Handed<std::shared_ptr<Outcome>>> watcher_;
    hip::CancelToken cancel_;
    QString path_;
};

} // namespace hip::ui

Q_DECLARE_METATYPE(hip::ui::OpenedDocument)
