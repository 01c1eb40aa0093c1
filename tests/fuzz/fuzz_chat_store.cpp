// The chat store's reader: arbitrary bytes as a saved chat. What it accepts must survive a save
// and a second read unchanged (text, roles, notes and sources), so a damaged file can never turn
// into a chat that saves differently from what was shown.

#include "fuzz_target.h"

#include "fuzz_temp_file.h"

#include "chat/chat_store.h"

#include <QByteArray>
#include <QFile>

#include <cmath>

namespace {

bool sameExceptTime(const hip::ui::ChatMessage& a, const hip::ui::ChatMessage& b) {
    if (a.role != b.role || a.text != b.text || a.note != b.note ||
        a.sources.size() != b.sources.size())
        return false;
    for (size_t s = 0; s < a.sources.size(); ++s) {
        const hip::ui::ChatSource& x = a.sources[s];
        const hip::ui::ChatSource& y = b.sources[s];
        // JSON keeps a double exactly; NaN and infinities do not occur in JSON.
        if (x.page != y.page || x.label != y.label || x.quote != y.quote ||
            x.textBegin != y.textBegin || x.textEnd != y.textEnd ||
            !(x.weight == y.weight || (std::isnan(x.weight) && std::isnan(y.weight))))
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto chat = hip::ui::ChatStore::parse(
        QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size)));
    if (!chat) return 0;

    const hip::ui::ChatStore store(QString::fromStdString(hipfuzz::scratchFolder().string()));
    const QString key = QStringLiteral("fuzz");
    if (!store.save(key, *chat)) std::abort();
    QFile saved(store.pathFor(key));
    if (!saved.open(QIODevice::ReadOnly)) std::abort();
    auto again = hip::ui::ChatStore::parse(saved.readAll());
    if (!again || again->messages.size() != chat->messages.size() ||
        again->documentPath != chat->documentPath || again->documentTitle != chat->documentTitle)
        std::abort();
    for (size_t m = 0; m < chat->messages.size(); ++m)
        if (!sameExceptTime(chat->messages[m], again->messages[m])) std::abort();
    return 0;
}
