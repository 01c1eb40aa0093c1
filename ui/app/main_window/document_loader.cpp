#include "main_window/document_loader.h"

#include "chat/chat_store.h"
#include "document/document_reader.h"
#include "document_view/pdf_page_source.h"
#include "document_view/text_page_source.h"
#include "handoff/run.h"

#include <QFileInfo>
#include <QInputDialog>
#include <QLineEdit>

#include <chrono>
#include <future>

namespace hip::ui {

DocumentLoader::DocumentLoader(QWidget* dialogParent, QObject* parent)
    : QObject(parent), dialogParent_(dialogParent) {
    connect(&watcher_, &QFutureWatcher<handoff::Handed<std::shared_ptr<Outcome>>>::finished, this,
            [this] {
                const std::shared_ptr<Outcome> outcome = watcher_.result().value();
                if (outcome->cancelled) return;
                if (outcome->document)
                    emit opened(*outcome->document);
                else
                    emit failed(path_, outcome->error);
            });
}

DocumentLoader::~DocumentLoader() {
    cancel_.cancel();
    watcher_.waitForFinished();
}

void DocumentLoader::cancel() {
    cancel_.cancel();
}

std::optional<QString> DocumentLoader::askPassword(const QString& fileName, bool previousWasWrong) {
    bool ok = false;
    const QString label = previousWasWrong
                              ? tr("The password was wrong. Password for %1:").arg(fileName)
                              : tr("%1 is protected by a password:").arg(fileName);
    const QString password =
        QInputDialog::getText(dialogParent_, tr("Password"), label, QLineEdit::Password, {}, &ok);
    if (!ok) return std::nullopt;
    return password;
}

void DocumentLoader::open(const QString& path) {
    cancel_.cancel();
    cancel_ = hip::CancelToken();
    path_ = path;
    const hip::CancelToken cancel = cancel_;
    watcher_.setFuture(handoff::run([this, path, cancel] {
        auto outcome = std::make_shared<Outcome>();
        auto password = std::make_shared<QString>();
        doc::ReadOptions options;
        options.cancel = cancel;
        options.progress = [this, path](const hip::Progress& p) {
            // Queued to the GUI thread; the loader outlives the job (its destructor waits).
            handoff::queueCall(this, [this, path, p] { emit progress(path, p.done, p.total); });
        };
        options.password = [this, password, cancel](const doc::PasswordRequest& request) {
            // Ask on the GUI thread without blocking it: the reader waits here, checking for
            // cancel, so closing the window never deadlocks with a pending question.
            auto answer = std::make_shared<std::promise<std::optional<QString>>>();
            std::future<std::optional<QString>> reply = answer->get_future();
            handoff::queueCall(this, [this, answer, request] {
                answer->set_value(askPassword(request.fileName, request.previousWasWrong));
            });
            while (reply.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
                if (cancel.isCancelled()) return std::optional<QString>();
            std::optional<QString> given = reply.get();
            if (given) *password = *given;
            return given;
        };
        auto text = doc::readDocument(path, options);
        if (!text) {
            outcome->cancelled = text.status().code() == hip::ErrorCode::Cancelled;
            outcome->error = QString::fromStdString(text.message());
            return outcome;
        }
        auto key = ChatStore::documentKey(path);
        if (!key) {
            outcome->error = QString::fromStdString(key.message());
            return outcome;
        }
        auto shared = std::make_shared<const doc::DocumentText>(std::move(*text));
        std::shared_ptr<const PageSource> pages;
        if (shared->format == QLatin1String("PDF")) {
            auto pdf = PdfPageSource::open(path, password->toUtf8(), shared);
            if (!pdf) {
                outcome->error = QString::fromStdString(pdf.message());
                return outcome;
            }
            pages = std::move(*pdf);
        } else {
            pages = std::make_shared<const TextPageSource>(shared);
        }
        if (cancel.isCancelled()) {
            outcome->cancelled = true;
            return outcome;
        }
        outcome->document = OpenedDocument{QFileInfo(path).absoluteFilePath(), *key, shared, pages};
        return outcome;
    }));
}

} // namespace hip::ui
