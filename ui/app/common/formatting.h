#pragma once
// Numbers as people read them: sizes in binary units, durations in minutes and seconds, token
// counts with the locale's digit grouping.

#include <QString>

#include <cstdint>

namespace hip::ui {

QString formatBytes(uint64_t bytes);    // "471 MiB", "21.9 GiB"
QString formatDuration(double seconds); // "12 s", "3 min 05 s", "1 h 02 min"
QString formatCount(int64_t count);     // "12,345"

} // namespace hip::ui
