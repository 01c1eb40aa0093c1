#pragma once
// Line charts written as PNG files, for the eval commands. Drawn with Qt Gui offscreen; a build
// without Qt Gui links plot_png_unavailable.cpp instead, which reports that PNG output is off.

#include <cstdint>
#include <string>
#include <vector>

namespace cli {

struct PlotLine {
    std::vector<double> x, y; // points; NaN values are skipped
    uint32_t rgb = 0x000000;
    double width = 1.5;
    std::string label; // shown in the legend; empty keeps the line out of it
};

struct LinePlot {
    std::string title;
    std::string xLabel;
    std::string yLabel;
    bool logX = false; // base-2 axis with power-of-two ticks
    std::vector<PlotLine> lines;
};

// Whether this build can write PNG files (it has Qt Gui).
bool pngOutputAvailable();
// Writes `plot` to `path`; returns an empty string, or what went wrong.
std::string writePlotPng(const LinePlot& plot, const std::string& path);

} // namespace cli
