#pragma once
// QPainter and QPdfWriter need a QGuiApplication for fonts; the CLI has none, so commands that
// draw make one for the drawing, on the offscreen platform unless the user chose another.

#include <QGuiApplication>

#include <memory>

namespace cli {

// A new application, or null when one exists already.
std::unique_ptr<QGuiApplication> guiApplication();

} // namespace cli
