#include "backend/cuda/cuda_device.h"

#include "backend/cuda/cuda_check.h"

#include <cstdlib>

namespace hip::backend {

int defaultCudaDevice() {
    if (const char* env = std::getenv("HIPREADER_CUDA_DEVICE"); env && *env) return std::atoi(env);
    return 0;
}

Result<CudaDeviceInfo> queryCudaDevice(int index) {
    int count = 0;
    if (const cudaError_t error = cudaGetDeviceCount(&count); error != cudaSuccess)
        return makeError(ErrorCode::Unsupported,
                         std::string("no usable NVIDIA GPU: ") + cudaGetErrorString(error));
    if (index < 0 || index >= count)
        return makeError(ErrorCode::Unsupported, "GPU " + std::to_string(index) +
                                                     " does not exist (" + std::to_string(count) +
                                                     " found)");
    cudaDeviceProp properties{};
    HIP_CUDA_TRY(cudaGetDeviceProperties(&properties, index), "cudaGetDeviceProperties");
    if (properties.major < 8)
        return makeError(ErrorCode::Unsupported,
                         std::string(properties.name) + " has compute capability " +
                             std::to_string(properties.major) + "." +
                             std::to_string(properties.minor) +
                             "; the CUDA backend needs 8.0 (Ampere) or newer");
    CudaDeviceInfo info;
    info.index = index;
    info.name = properties.name;
    info.computeMajor = properties.major;
    info.computeMinor = properties.minor;
    info.multiprocessors = properties.multiProcessorCount;
    info.l2Bytes = uint64_t(properties.l2CacheSize);
    HIP_CUDA_TRY(cudaSetDevice(index), "cudaSetDevice");
    size_t freeBytes = 0, totalBytes = 0;
    HIP_CUDA_TRY(cudaMemGetInfo(&freeBytes, &totalBytes), "cudaMemGetInfo");
    info.freeBytes = freeBytes;
    info.totalBytes = totalBytes;
    return info;
}

} // namespace hip::backend
