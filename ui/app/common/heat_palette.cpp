#include "common/heat_palette.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace hip::ui {

QColor heatColor(double t) {
    // Stops of the "YlOrRd" ramp (ColorBrewer): monotonic in lightness.
    static constexpr std::array<std::array<int, 3>, 5> stops = {{
        {255, 237, 160},
        {254, 178, 76},
        {253, 141, 60},
        {227, 26, 28},
        {128, 0, 38},
    }};
    t = std::clamp(t, 0.0, 1.0) * double(stops.size() - 1);
    const auto i = std::min<size_t>(size_t(t), stops.size() - 2);
    const double f = t - double(i);
    auto mix = [&](int c) {
        return int(std::lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c])));
    };
    return QColor(mix(0), mix(1), mix(2));
}

} // namespace hip::ui
