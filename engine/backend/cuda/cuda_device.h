#pragma once
// Which GPU the CUDA backend uses and what it offers.

#include "hip/status.h"

#include <cstdint>
#include <string>

namespace hip::backend {

struct CudaDeviceInfo {
    int index = 0;
    std::string name; // "NVIDIA H100 80GB HBM3"
    int computeMajor = 0;
    int computeMinor = 0;
    int multiprocessors = 0;
    uint64_t l2Bytes = 0;
    uint64_t freeBytes = 0; // now, from cudaMemGetInfo
    uint64_t totalBytes = 0;
};

// The device the engine uses: $HIPREADER_CUDA_DEVICE if set, else 0.
int defaultCudaDevice();

// Properties and free memory of a device. An error (not a crash) when there is no driver, no
// device or the device is older than compute capability 8.0, which the kernels need (bf16,
// cp.async, ldmatrix).
Result<CudaDeviceInfo> queryCudaDevice(int index);

} // namespace hip::backend
