#include "backend/cuda/rope_tables.h"

#include "attention/rope.h"
#include "backend/cuda/cuda_check.h"
#include "kernels/rope_table.h"

#include <vector>

namespace hip::backend {

Status DeviceRopeTables::cover(int64_t maxPosition, DevicePool& pool, cudaStream_t stream) {
    if (table_.data() && maxPosition <= view_.maxPosition) return Status::ok();
    const int32_t pairs = params_.dims / 2;
    const std::vector<double> frequencies = attention::ropeInverseFrequencies(params_);
    const uint64_t bytes = uint64_t(maxPosition) * uint64_t(pairs) * sizeof(float2);
    auto table =
        pool.allocate(bytes, DeviceUse::Workspace,
                      "the rotary angle table for " + std::to_string(maxPosition) + " positions");
    HIP_TRY(table);
    auto deviceFrequencies = pool.allocate(frequencies.size() * sizeof(double),
                                           DeviceUse::Workspace, "rotary frequencies");
    HIP_TRY(deviceFrequencies);
    HIP_CUDA_TRY(cudaMemcpyAsync(deviceFrequencies->data(), frequencies.data(),
                                 frequencies.size() * sizeof(double), cudaMemcpyHostToDevice,
                                 stream),
                 "uploading rotary frequencies");
    HIP_CUDA_TRY(kernels::fillRopeTable(deviceFrequencies->as<double>(), pairs, maxPosition,
                                        table->as<float2>(), stream),
                 "the rotary table kernel");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "building the rotary table");
    pool.retire(std::move(table_)); // work already recorded may still read the old table
    table_ = std::move(*table);
    view_.cosSin = table_.as<const float2>();
    view_.dims = params_.dims;
    view_.neox = params_.neox;
    view_.maxPosition = maxPosition;
    return Status::ok();
}

} // namespace hip::backend
