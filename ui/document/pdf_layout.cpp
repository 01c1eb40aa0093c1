#include "document/pdf_layout.h"

namespace hip::doc {

QString LayoutLine::text() const {
    QString result;
    for (size_t i = 0; i < words.size(); ++i) {
        result += words[i].text;
        if (words[i].spaceAfter && i + 1 < words.size()) result += QLatin1Char(' ');
    }
    return result;
}

} // namespace hip::doc
