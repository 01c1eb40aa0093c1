#pragma once
// The CPU reference backend: fp32 activations (int8 in decode products on request), weights read in
// place from the mapped model file and dequantized tile by tile into OpenBLAS matrix products,
// exact attention over a paged KV store in host memory.

#include "backend/backend.h"

#include <memory>

namespace hip::backend {

// `threads` <= 0 uses every core. With `int8Activations`, decode products with layer matrices take
// int8 activations and integer dot products (LoadOptions::int8CpuActivations).
std::unique_ptr<Backend> createCpuBackend(int threads, bool int8Activations = false);

} // namespace hip::backend
