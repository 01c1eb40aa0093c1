#pragma once
// CUDA and cuBLAS results as engine Status values: every call the CUDA backend makes is checked
// and a failure becomes an error a person can read, never a crash.

#include "hip/status.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

namespace hip::backend {

inline Status cudaStatus(cudaError_t error, const std::string& what) {
    if (error == cudaSuccess) return Status::ok();
    const ErrorCode code =
        error == cudaErrorMemoryAllocation ? ErrorCode::OutOfMemory : ErrorCode::Internal;
    return makeError(code, "CUDA error in " + what + ": " + cudaGetErrorName(error) + " (" +
                               cudaGetErrorString(error) + ")");
}

inline Status cublasStatus(cublasStatus_t error, const std::string& what) {
    if (error == CUBLAS_STATUS_SUCCESS) return Status::ok();
    const ErrorCode code =
        error == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::OutOfMemory : ErrorCode::Internal;
    return makeError(code, "cuBLAS error in " + what + ": " + cublasGetStatusName(error) + " (" +
                               cublasGetStatusString(error) + ")");
}

} // namespace hip::backend

// Returns the error of a failing CUDA call from the enclosing function (which returns a Status or
// a Result).
#define HIP_CUDA_TRY(call, what) HIP_TRY(::hip::backend::cudaStatus((call), (what)))
