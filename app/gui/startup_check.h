#pragma once
// `hipreader --check`: the installed application shows that it works end to end with nobody at the
// window. The model loads, the book opened on the command line is read into it and one question
// about it is answered; each step is printed, and the application quits with 0, or with 1 at the
// first failure, at a question the window asks the user (answered no), or after `timeoutSeconds`.
// scripts/package-check.sh runs it under Xvfb in a fresh Debian root.

namespace hip::ui {
class MainWindow;
}

void runStartupCheck(hip::ui::MainWindow& window, int timeoutSeconds);
