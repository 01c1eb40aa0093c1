#include "backend/cuda/rope_tables.h"

#include "backend/cuda/cuda_check.h"
#include "kernels/rope_table.h"

#include <cmath>
#include <vector>

namespace hip::backend {

bool sameRope(const RopeParams& a, const RopeParams& b) {
    return a.dims == b.dims && a.freqBase == b.freqBase && a.positionScale == b.positionScale &&
           a.neox == b.neox && a.freqFactors == b.freqFactors;
}

Status DeviceRopeTables::cover(int64_t maxPosition, DevicePool& pool, cudaStream_t stream) {
    if (table_.data() && maxPosition <= view_.maxPosition) return Status::ok();
    // attention/rope.cpp's frequencies, in the same double-precision arithmetic.
    const int32_t pairs = params_.dims / 2;
    std::vector<double> frequencies(static_cast<size_t>(pairs));
    for (int32_t i = 0; i < pairs; ++i) {
        double frequency = std::pow(double(params_.freqBase), -2.0 * i / params_.dims);
        if (!params_.freqFactors.empty()) frequency /= params_.freqFactors[size_t(i)];
        frequencies[size_t(i)] = frequency * params_.positionScale;
    }
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
