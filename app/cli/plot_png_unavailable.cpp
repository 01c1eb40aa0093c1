#include "plot_png.h"

namespace cli {

bool pngOutputAvailable() {
    return false;
}

std::string writePlotPng(const LinePlot&, const std::string& path) {
    return "cannot write " + path +
           ": this hipreader-cli was built without Qt Gui, so it has no "
           "PNG output (install qt6-base-dev and rebuild, or use --csv and plot elsewhere)";
}

} // namespace cli
