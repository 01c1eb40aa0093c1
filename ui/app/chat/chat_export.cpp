#include "chat/chat_export.h"

#include <QCoreApplication>
#include <QLocale>

namespace hip::ui {
namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("ChatExport", text);
}

// Quotes a passage on one Markdown line: no line breaks, and nothing that closes the quote.
QString inlineQuote(QString text) {
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    text.replace(QLatin1Char('"'), QChar(0x201D));
    return text;
}

} // namespace

QString chatToMarkdown(const QString& documentTitle, const std::vector<ChatMessage>& messages) {
    QString out = tr("# Questions about \"%1\"\n\n").arg(documentTitle);
    out += tr("_Exported from HiP Reader on %1._\n")
               .arg(QLocale().toString(QDateTime::currentDateTime(), QLocale::LongFormat));
    for (const ChatMessage& m : messages) {
        if (m.streaming) continue;
        if (m.role == ChatMessage::Role::User) {
            out += tr("\n## Question\n\n%1\n").arg(m.text.trimmed());
            continue;
        }
        out += tr("\n### Answer\n\n%1\n").arg(m.text.trimmed());
        if (!m.note.isEmpty()) out += tr("\n_(%1)_\n").arg(m.note);
        if (m.sources.empty()) continue;
        out += tr("\n**Sources** (where the model's attention went):\n\n");
        for (const ChatSource& s : m.sources)
            out += tr("- page %1 (%2% of the attention): \"%3\"\n")
                       .arg(s.label.isEmpty() ? QString::number(s.page + 1) : s.label)
                       .arg(qRound(s.weight * 100))
                       .arg(inlineQuote(s.quote));
    }
    return out;
}

} // namespace hip::ui
