#pragma once
// The colours of attention heat, shared by the page overlay, the heat strip and the attention
// views so that one colour means one amount everywhere: a ramp from pale yellow through orange to
// deep red (readable by most colour-blind people, and in greyscale by lightness).

#include <QColor>

namespace hip::ui {

// `t` in [0, 1]: 0 the least attention shown, 1 the most.
QColor heatColor(double t);

} // namespace hip::ui
