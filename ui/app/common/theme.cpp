#include "common/theme.h"

namespace hip::ui {

bool isDarkPalette(const QPalette& palette) {
    return palette.color(QPalette::Window).lightnessF() < 0.5;
}

} // namespace hip::ui
