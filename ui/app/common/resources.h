#pragma once
// The application's compiled-in resources (icons) live in this static library; Qt needs them
// registered once before the first use (main() and the tests call this).

namespace hip::ui {

void initResources();

} // namespace hip::ui
