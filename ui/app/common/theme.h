#pragma once
// Whether the widgets are drawn with a dark palette. The palette is what the user sees (it follows
// the system's colour scheme through the platform theme, on Qt 6.4 as on later versions), so it
// is what custom painting adapts to.

#include <QPalette>

namespace hip::ui {

bool isDarkPalette(const QPalette& palette);

} // namespace hip::ui
