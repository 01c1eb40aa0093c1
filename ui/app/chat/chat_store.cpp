#include "chat/chat_store.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

namespace hip::ui {
namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("ChatStore", text);
}

hip::Status error(hip::ErrorCode code, const QString& message) {
    return hip::makeError(code, message.toStdString());
}

hip::Status notSaved(const QString& path, const QString& reason) {
    return error(hip::ErrorCode::Internal,
                 tr("The chat could not be saved to %1: %2. The chat saved before is unchanged.")
                     .arg(path, reason));
}

QJsonObject toJson(const ChatSource& s) {
    return {{"page", s.page},
            {"label", s.label},
            {"quote", s.quote},
            {"weight", s.weight},
            {"begin", qint64(s.textBegin)},
            {"end", qint64(s.textEnd)}};
}

ChatSource sourceFromJson(const QJsonObject& o) {
    ChatSource s;
    s.page = o.value("page").toInt(-1);
    s.label = o.value("label").toString();
    s.quote = o.value("quote").toString();
    s.weight = o.value("weight").toDouble();
    s.textBegin = uint64_t(std::max<qint64>(0, o.value("begin").toInteger()));
    s.textEnd = uint64_t(std::max<qint64>(0, o.value("end").toInteger()));
    return s;
}

QJsonObject toJson(const ChatMessage& m) {
    QJsonObject o{{"role", m.role == ChatMessage::Role::User ? "user" : "assistant"},
                  {"text", m.text},
                  {"time", m.time.toString(Qt::ISODateWithMs)}};
    if (!m.note.isEmpty()) o.insert("note", m.note);
    if (!m.sources.empty()) {
        QJsonArray sources;
        for (const ChatSource& s : m.sources)
            sources.append(toJson(s));
        o.insert("sources", sources);
    }
    return o;
}

std::optional<ChatMessage> messageFromJson(const QJsonObject& o) {
    const QString role = o.value("role").toString();
    if (role != "user" && role != "assistant") return std::nullopt;
    ChatMessage m;
    m.role = role == "user" ? ChatMessage::Role::User : ChatMessage::Role::Assistant;
    m.text = o.value("text").toString();
    m.time = QDateTime::fromString(o.value("time").toString(), Qt::ISODateWithMs);
    m.note = o.value("note").toString();
    for (const QJsonValue s : o.value("sources").toArray())
        m.sources.push_back(sourceFromJson(s.toObject()));
    return m;
}

} // namespace

ChatStore::ChatStore(QString folder) : folder_(std::move(folder)) {
    if (folder_.isEmpty())
        folder_ = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                  QStringLiteral("/chats");
}

QString ChatStore::pathFor(const QString& documentKey) const {
    return folder_ + QLatin1Char('/') + documentKey + QStringLiteral(".json");
}

hip::Result<SavedChat> ChatStore::parse(const QByteArray& bytes) {
    QJsonParseError parse;
    const QJsonDocument json = QJsonDocument::fromJson(bytes, &parse);
    const QJsonObject root = json.object();
    if (parse.error != QJsonParseError::NoError)
        return error(
            hip::ErrorCode::InvalidFile,
            tr("it is damaged (%1 at byte %2)").arg(parse.errorString()).arg(parse.offset));
    if (root.value("format").toString() != QLatin1String(kFormatName))
        return error(hip::ErrorCode::InvalidFile, tr("it is not a HiP Reader chat"));
    if (root.value("version").toInt() > kFormatVersion)
        return error(hip::ErrorCode::InvalidFile,
                     tr("it was written by a newer HiP Reader (format version %1; this one reads "
                        "up to %2)")
                         .arg(root.value("version").toInt())
                         .arg(kFormatVersion));

    SavedChat chat;
    const QJsonObject document = root.value("document").toObject();
    chat.documentPath = document.value("path").toString();
    chat.documentTitle = document.value("title").toString();
    for (const QJsonValue value : root.value("messages").toArray())
        if (auto message = messageFromJson(value.toObject())) chat.messages.push_back(*message);
    return chat;
}

hip::Result<SavedChat> ChatStore::load(const QString& documentKey) const {
    const QString path = pathFor(documentKey);
    QFile file(path);
    if (!file.exists()) return SavedChat{};
    if (!file.open(QIODevice::ReadOnly))
        return error(hip::ErrorCode::NotFound,
                     tr("The saved chat %1 cannot be read: %2").arg(path, file.errorString()));
    auto chat = parse(file.readAll());
    file.close();
    if (!chat) {
        // Set aside, so that saving the new chat cannot destroy what a person may still want.
        const QString aside =
            path + QStringLiteral(".unreadable-") +
            QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        QFile::rename(path, aside);
        return error(hip::ErrorCode::InvalidFile,
                     tr("The saved chat could not be restored because %1. It was kept as %2.")
                         .arg(QString::fromStdString(chat.message()), aside));
    }
    return chat;
}

hip::Status ChatStore::save(const QString& documentKey, const SavedChat& chat) const {
    if (!QDir().mkpath(folder_))
        return error(hip::ErrorCode::NotFound,
                     tr("The chat cannot be saved: the folder %1 cannot be created.").arg(folder_));
    QJsonArray messages;
    for (const ChatMessage& m : chat.messages)
        if (!m.streaming) messages.append(toJson(m));
    const QJsonObject root{
        {"format", kFormatName},
        {"version", kFormatVersion},
        {"document", QJsonObject{{"path", chat.documentPath}, {"title", chat.documentTitle}}},
        {"messages", messages}};

    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    QSaveFile file(pathFor(documentKey));
    if (!file.open(QIODevice::WriteOnly)) return notSaved(file.fileName(), file.errorString());
    // A full disk or a file size limit can end a write early without an error: a short write
    // must not be committed over the previous chat.
    const qint64 written = file.write(bytes);
    if (written != bytes.size())
        return notSaved(file.fileName(),
                        written < 0 ? file.errorString()
                                    : tr("only %1 of %2 bytes could be written (is the disk full?)")
                                          .arg(written)
                                          .arg(bytes.size()));
    if (!file.commit()) return notSaved(file.fileName(), file.errorString());
    return hip::Status::ok();
}

hip::Result<QString> ChatStore::documentKey(const QString& documentPath) {
    QFile file(documentPath);
    if (!file.open(QIODevice::ReadOnly))
        return error(hip::ErrorCode::NotFound,
                     tr("%1 cannot be read: %2").arg(documentPath, file.errorString()));
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return error(hip::ErrorCode::InvalidFile,
                     tr("%1 could not be read to the end.").arg(documentPath));
    return QString::fromLatin1(hash.result().toHex());
}

} // namespace hip::ui
