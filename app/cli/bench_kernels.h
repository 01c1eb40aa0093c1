#pragma once
// `hipreader-cli bench kernels` (builds with CUDA only).

#include "arguments.h"

namespace cli {

int benchKernels(Arguments& args);

} // namespace cli
