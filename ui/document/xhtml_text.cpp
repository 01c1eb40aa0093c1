#include "document/xhtml_text.h"

#include <QSet>
#include <QXmlStreamEntityResolver>
#include <QXmlStreamReader>

#include <array>

namespace hip::doc {
namespace {

// XHTML files in EPUBs use HTML's named entities, which XML does not declare; without these
// the parser would stop at the first "&nbsp;".
class HtmlEntities final : public QXmlStreamEntityResolver {
public:
    QString resolveUndeclaredEntity(const QString& name) override {
        // HTML 4's Latin-1 entities, in code point order from U+00A0.
        static const std::array<const char*, 96> latin1 = {
            "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",
            "uml",    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",
            "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",  "para",   "middot",
            "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest",
            "Agrave", "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil",
            "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave", "Iacute", "Icirc",  "Iuml",
            "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",   "times",
            "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",
            "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
            "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",
            "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
            "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};
        static const QHash<QString, char32_t> others = {
            {QStringLiteral("OElig"), 0x152},   {QStringLiteral("oelig"), 0x153},
            {QStringLiteral("Scaron"), 0x160},  {QStringLiteral("scaron"), 0x161},
            {QStringLiteral("Yuml"), 0x178},    {QStringLiteral("fnof"), 0x192},
            {QStringLiteral("circ"), 0x2C6},    {QStringLiteral("tilde"), 0x2DC},
            {QStringLiteral("ensp"), 0x2002},   {QStringLiteral("emsp"), 0x2003},
            {QStringLiteral("thinsp"), 0x2009}, {QStringLiteral("zwnj"), 0x200C},
            {QStringLiteral("zwj"), 0x200D},    {QStringLiteral("ndash"), 0x2013},
            {QStringLiteral("mdash"), 0x2014},  {QStringLiteral("lsquo"), 0x2018},
            {QStringLiteral("rsquo"), 0x2019},  {QStringLiteral("sbquo"), 0x201A},
            {QStringLiteral("ldquo"), 0x201C},  {QStringLiteral("rdquo"), 0x201D},
            {QStringLiteral("bdquo"), 0x201E},  {QStringLiteral("dagger"), 0x2020},
            {QStringLiteral("Dagger"), 0x2021}, {QStringLiteral("bull"), 0x2022},
            {QStringLiteral("hellip"), 0x2026}, {QStringLiteral("permil"), 0x2030},
            {QStringLiteral("prime"), 0x2032},  {QStringLiteral("Prime"), 0x2033},
            {QStringLiteral("lsaquo"), 0x2039}, {QStringLiteral("rsaquo"), 0x203A},
            {QStringLiteral("euro"), 0x20AC},   {QStringLiteral("trade"), 0x2122},
            {QStringLiteral("larr"), 0x2190},   {QStringLiteral("rarr"), 0x2192},
            {QStringLiteral("minus"), 0x2212}};
        for (size_t i = 0; i < latin1.size(); ++i)
            if (name == QLatin1String(latin1[i])) return QString(QChar(char16_t(0xA0 + i)));
        if (const auto it = others.constFind(name); it != others.constEnd())
            return QString::fromUcs4(&*it, 1);
        return {}; // unknown entities vanish rather than stop the chapter
    }
};

enum class Element { Block, LineBreak, Cell, Skipped, Heading, Preformatted, Other };

Element classify(QStringView name) {
    static const QSet<QString> blocks = {
        QStringLiteral("p"),       QStringLiteral("div"),        QStringLiteral("section"),
        QStringLiteral("article"), QStringLiteral("aside"),      QStringLiteral("blockquote"),
        QStringLiteral("li"),      QStringLiteral("ul"),         QStringLiteral("ol"),
        QStringLiteral("dl"),      QStringLiteral("dt"),         QStringLiteral("dd"),
        QStringLiteral("figure"),  QStringLiteral("figcaption"), QStringLiteral("header"),
        QStringLiteral("footer"),  QStringLiteral("main"),       QStringLiteral("nav"),
        QStringLiteral("table"),   QStringLiteral("tr"),         QStringLiteral("hr"),
        QStringLiteral("address"), QStringLiteral("body")};
    static const QSet<QString> skipped = {QStringLiteral("head"), QStringLiteral("script"),
                                          QStringLiteral("style"), QStringLiteral("svg"),
                                          QStringLiteral("math")};
    const QString lower = name.toString().toLower();
    if (lower.size() == 2 && lower[0] == QLatin1Char('h') && lower[1] >= QLatin1Char('1') &&
        lower[1] <= QLatin1Char('6'))
        return Element::Heading;
    if (lower == QLatin1String("br")) return Element::LineBreak;
    if (lower == QLatin1String("td") || lower == QLatin1String("th")) return Element::Cell;
    if (lower == QLatin1String("pre")) return Element::Preformatted;
    if (blocks.contains(lower)) return Element::Block;
    if (skipped.contains(lower)) return Element::Skipped;
    return Element::Other;
}

// Appends words with single spaces and the breaks blocks ask for, never leading or doubled.
class TextSink {
public:
    explicit TextSink(QString& out) : out_(out) {}
    void breakParagraph() { pending_ = out_.isEmpty() ? Pending::None : Pending::Paragraph; }
    void breakLine() {
        if (!out_.isEmpty() && pending_ != Pending::Paragraph) pending_ = Pending::Line;
    }
    void space() {
        if (!out_.isEmpty() && pending_ == Pending::None) pending_ = Pending::Space;
    }
    void flow(QStringView text) {
        for (qsizetype i = 0; i < text.size();) {
            if (text[i].isSpace()) {
                space();
                ++i;
                continue;
            }
            qsizetype end = i;
            while (end < text.size() && !text[end].isSpace())
                ++end;
            word(text.mid(i, end - i));
            i = end;
        }
    }
    void verbatim(QStringView text) {
        if (text.isEmpty()) return;
        flush();
        out_ += text;
    }
    // Where the next text will start, after the break or space waiting for it.
    qsizetype nextPosition() const {
        switch (pending_) {
        case Pending::Paragraph:
            return out_.size() + 2;
        case Pending::Line:
        case Pending::Space:
            return out_.size() + 1;
        case Pending::None:
            break;
        }
        return out_.size();
    }

private:
    enum class Pending { None, Space, Line, Paragraph };
    void word(QStringView text) {
        flush();
        out_ += text;
    }
    void flush() {
        switch (pending_) {
        case Pending::Paragraph:
            out_ += QLatin1String("\n\n");
            break;
        case Pending::Line:
            out_ += QLatin1Char('\n');
            break;
        case Pending::Space:
            out_ += QLatin1Char(' ');
            break;
        case Pending::None:
            break;
        }
        pending_ = Pending::None;
    }
    QString& out_;
    Pending pending_ = Pending::None;
};

} // namespace

XhtmlText xhtmlToText(const QByteArray& xhtml) {
    XhtmlText result;
    TextSink sink(result.text);
    HtmlEntities entities;
    QXmlStreamReader xml(xhtml);
    xml.setEntityResolver(&entities);
    int skipped = 0, preformatted = 0, heading = 0, title = 0;
    QString headingText;
    while (!xml.atEnd()) {
        switch (xml.readNext()) {
        case QXmlStreamReader::StartElement: {
            if (xml.name().compare(QLatin1String("title"), Qt::CaseInsensitive) == 0) ++title;
            switch (classify(xml.name())) {
            case Element::Skipped:
                ++skipped;
                break;
            case Element::Block:
                sink.breakParagraph();
                break;
            case Element::Heading:
                ++heading;
                sink.breakParagraph();
                break;
            case Element::Preformatted:
                ++preformatted;
                sink.breakParagraph();
                break;
            case Element::LineBreak:
                sink.breakLine();
                break;
            case Element::Cell:
                sink.space();
                break;
            case Element::Other:
                break;
            }
            const QStringView id = xml.attributes().value(QStringLiteral("id"));
            if (!id.isEmpty()) result.anchors.insert(id.toString(), sink.nextPosition());
            break;
        }
        case QXmlStreamReader::EndElement:
            if (xml.name().compare(QLatin1String("title"), Qt::CaseInsensitive) == 0)
                title = std::max(0, title - 1);
            switch (classify(xml.name())) {
            case Element::Skipped:
                skipped = std::max(0, skipped - 1);
                break;
            case Element::Heading:
                heading = std::max(0, heading - 1);
                if (heading == 0 && result.firstHeading.isEmpty())
                    result.firstHeading = headingText.simplified();
                sink.breakParagraph();
                break;
            case Element::Preformatted:
                preformatted = std::max(0, preformatted - 1);
                [[fallthrough]];
            case Element::Block:
                sink.breakParagraph();
                break;
            case Element::Cell:
                sink.space();
                break;
            case Element::LineBreak:
            case Element::Other:
                break;
            }
            break;
        case QXmlStreamReader::Characters:
        case QXmlStreamReader::EntityReference:
            if (title > 0 && result.title.isEmpty())
                result.title = xml.text().toString().simplified();
            if (skipped > 0) break;
            if (heading > 0) headingText += xml.text();
            if (preformatted > 0)
                sink.verbatim(xml.text());
            else
                sink.flow(xml.text());
            break;
        default:
            break;
        }
    }
    if (xml.hasError())
        result.error = QStringLiteral("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
    return result;
}

} // namespace hip::doc
