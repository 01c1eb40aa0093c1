#pragma once
// Getting the open book into the model: count its tokens (the context meter), read it whole when
// it fits. When it does not, first ask for a longer context (needsLongerContext: the model
// controller loads the model again with one, or keeps it); when it still does not, say so and read
// only the pages that fit if the user agrees, never cutting silently. Starts by itself once both a
// model and a document are there.

#include "bridge/bridge_types.h"

#include <QObject>

#include <functional>

namespace hip::ui {

class EngineBridge;

class ReadingController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReadingController)

public:
    // Asked with the reason when the book does not fit; true reads the pages that fit.
    using FitQuestion = std::function<bool(const QString& reason)>;

    ReadingController(EngineBridge& bridge, FitQuestion askReadPart, QObject* parent = nullptr);

    // A new document (null: none). Reading starts when the model is ready.
    void setDocument(DocumentPtr document);
    // Reads the current document again (after the model was reloaded, or a cancel).
    void start();

    bool isRead() const { return tokens_ != nullptr; }
    const DocumentTokensPtr& tokens() const { return tokens_; }

    // "Reading "Title" into the model: 1,234 / 5,678 tokens (21%) · 2 / 9 pages · 160 tokens/s ·
    // about 30 s left"
    static QString describe(const QString& title, const doc::IngestEstimate& estimate);

signals:
    void contextChanged(qint64 capacity, qint64 documentTokens, qint64 readTokens);
    // The book is longer than the loaded model's context holds: start() again once a longer
    // context is loaded, or it is known that there will be none.
    void needsLongerContext(const QString& title, qint64 documentTokens);
    void progress(const QString& text, qint64 done, qint64 total);
    void read(const hip::ui::DocumentTokensPtr& tokens, int pagesRead, int pages);
    void failed(const QString& message);
    void cancelled();

private:
    void onCounted(qint64 documentTokens, qint64 capacity);

    EngineBridge& bridge_;
    FitQuestion askReadPart_;
    DocumentPtr document_;
    DocumentTokensPtr tokens_;
    qint64 documentTokens_ = -1;
    bool counting_ = false;
    bool wanted_ = false;             // start as soon as the engine is free
    bool longerContextAsked_ = false; // for this book and model
};

} // namespace hip::ui
