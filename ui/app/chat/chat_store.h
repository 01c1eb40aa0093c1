#pragma once
// Chats saved per document: one JSON file per document under
// QStandardPaths::AppDataLocation/chats, named by the SHA-256 of the document's bytes (so a moved
// or renamed book finds its chat again). Written atomically with QSaveFile; the format carries
// its name and version, and a file this version cannot read is set aside, never overwritten.

#include "chat/chat_message.h"

#include <hip/status.h>

#include <QByteArray>
#include <QString>

#include <vector>

namespace hip::ui {

struct SavedChat {
    QString documentPath; // where the document was when last saved
    QString documentTitle;
    std::vector<ChatMessage> messages;
};

class ChatStore {
public:
    static constexpr int kFormatVersion = 1;
    static constexpr auto kFormatName = "hipreader-chat";

    // `folder` defaults to AppDataLocation/chats.
    explicit ChatStore(QString folder = {});

    const QString& folder() const { return folder_; }
    QString pathFor(const QString& documentKey) const;

    // The chat of the document with this key (documentKey: a hex SHA-256). A missing file is an
    // empty chat; a damaged or newer one is renamed aside (".unreadable-<time>") and the error
    // says where, so nothing saved is lost.
    hip::Result<SavedChat> load(const QString& documentKey) const;
    hip::Status save(const QString& documentKey, const SavedChat& chat) const;
    // A saved chat from its file's bytes; the error says what is wrong with them (damaged, not a
    // chat, a newer format).
    static hip::Result<SavedChat> parse(const QByteArray& bytes);

    // The key of a document file: the hex SHA-256 of its bytes.
    static hip::Result<QString> documentKey(const QString& documentPath);

private:
    QString folder_;
};

} // namespace hip::ui
