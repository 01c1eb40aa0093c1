#pragma once
// A grid-stride loop over the elements of a row-major matrix, for the simple elementwise kernels.

#include "kernels/kernel_types.h"

#include <algorithm>

namespace hip::kernels {

template <class Op> __global__ void elementwiseKernel(int64_t rows, int64_t cols, Op op) {
    const int64_t total = rows * cols;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x)
        op(i / cols, i % cols);
}

// Calls op(row, col) once for every element of `shape` (only its rows and cols are used).
template <class Op> cudaError_t forEachElement(const Rows& shape, cudaStream_t stream, Op op) {
    const int64_t total = shape.rows * shape.cols;
    if (total == 0) return cudaSuccess;
    constexpr int kThreads = 256;
    const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, 65536);
    elementwiseKernel<<<unsigned(blocks), kThreads, 0, stream>>>(shape.rows, shape.cols, op);
    return cudaGetLastError();
}

} // namespace hip::kernels
