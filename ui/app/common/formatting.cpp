#include "common/formatting.h"

#include <QCoreApplication>
#include <QLocale>

#include <cmath>

namespace hip::ui {

QString formatBytes(uint64_t bytes) {
    const QLocale locale;
    constexpr double kMiB = 1024.0 * 1024.0;
    const double mib = double(bytes) / kMiB;
    if (mib < 1)
        return QCoreApplication::translate("Formatting", "%1 KiB")
            .arg(locale.toString(double(bytes) / 1024, 'f', 0));
    if (mib < 1024)
        return QCoreApplication::translate("Formatting", "%1 MiB")
            .arg(locale.toString(mib, 'f', 0));
    return QCoreApplication::translate("Formatting", "%1 GiB")
        .arg(locale.toString(mib / 1024, 'f', 1));
}

QString formatDuration(double seconds) {
    const auto total = int64_t(std::lround(std::max(0.0, seconds)));
    if (total < 60) return QCoreApplication::translate("Formatting", "%1 s").arg(total);
    if (total < 3600)
        return QCoreApplication::translate("Formatting", "%1 min %2 s")
            .arg(total / 60)
            .arg(total % 60, 2, 10, QLatin1Char('0'));
    return QCoreApplication::translate("Formatting", "%1 h %2 min")
        .arg(total / 3600)
        .arg((total % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString formatCount(int64_t count) {
    return QLocale().toString(qlonglong(count));
}

} // namespace hip::ui
