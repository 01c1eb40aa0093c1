#pragma once
// The CPU reference backend: fp32 activations, weights read in place from the mapped model file
// and dequantized tile by tile into OpenBLAS matrix products, exact attention over a paged KV
// store in host memory.

#include "backend/backend.h"

#include <memory>

namespace hip::backend {

// `threads` <= 0 uses every core.
std::unique_ptr<Backend> createCpuBackend(int threads);

} // namespace hip::backend
