#include "backend/cuda/hip_lists.h"

#include "attention/hip_mask.h"
#include "backend/cuda/cuda_check.h"

#include <algorithm>

namespace hip::backend {

int32_t HipListSizes::largest() const {
    int32_t most = mask;
    for (int32_t n : stageInputs)
        most = std::max(most, n);
    return most;
}

HipListSizes hipListSizes(const AttentionConfig& config, int64_t capacity) {
    HipListSizes sizes;
    const auto& stages = config.stages;
    for (size_t s = 0; s < stages.size(); ++s) {
        if (s == 0) {
            sizes.stageInputs.push_back(
                int32_t((capacity + stages[0].chunkSize - 1) / stages[0].chunkSize));
            continue;
        }
        // The previous stage's kept chunks, cut into this stage's chunks.
        const int64_t kept = stages[s - 1].keepTokens / stages[s - 1].chunkSize;
        const int64_t pieces =
            (stages[s - 1].chunkSize + stages[s].chunkSize - 1) / stages[s].chunkSize;
        sizes.stageInputs.push_back(int32_t(kept * pieces));
    }
    if (!stages.empty())
        sizes.mask = int32_t(std::max(config.firstLayersFinalTokens, stages.back().keepTokens) /
                             stages.back().chunkSize);
    return sizes;
}

Result<DeviceChunkLists> DeviceChunkLists::allocate(DevicePool& pool, int32_t blocks,
                                                    int32_t capacity, const std::string& what) {
    DeviceChunkLists lists;
    lists.blocks = blocks;
    lists.capacity = capacity;
    const uint64_t bytes = uint64_t(blocks) * (uint64_t(capacity) * sizeof(int2) + sizeof(int32_t));
    auto memory = pool.allocate(bytes, DeviceUse::Workspace, what);
    HIP_TRY(memory);
    lists.memory = std::move(*memory);
    return lists;
}

kernels::HipChunkLists DeviceChunkLists::view() const {
    kernels::HipChunkLists v;
    v.chunks = memory.as<int2>();
    v.counts = reinterpret_cast<int32_t*>(v.chunks + int64_t(blocks) * capacity);
    v.capacity = capacity;
    return v;
}

Result<HipDecodeState> HipDecodeState::create(DevicePool& pool, const AttentionConfig& config,
                                              int32_t layers, int64_t capacity) {
    HipDecodeState state;
    state.config_ = config;
    state.sizes_ = hipListSizes(config, capacity);
    for (int32_t layer = 0; layer < layers; ++layer) {
        for (int32_t size : state.sizes_.stageInputs) {
            auto lists = DeviceChunkLists::allocate(pool, 1, size, "HiP's decode stage inputs");
            HIP_TRY(lists);
            state.stageInputs_.push_back(std::move(*lists));
        }
        auto mask = DeviceChunkLists::allocate(pool, 1, state.sizes_.mask, "HiP's decode masks");
        HIP_TRY(mask);
        state.masks_.push_back(std::move(*mask));
    }
    auto steps = pool.allocate(uint64_t(layers) * sizeof(int32_t), DeviceUse::Workspace,
                               "HiP's decode step counters");
    HIP_TRY(steps);
    state.steps_ = std::move(*steps);
    state.valid_.assign(size_t(layers), false);
    return state;
}

Result<std::vector<std::vector<KeyRange>>> HipDecodeState::masks(cudaStream_t stream,
                                                                 int64_t end) const {
    std::vector<std::vector<KeyRange>> selections(valid_.size());
    std::vector<int2> chunks(size_t(sizes_.mask));
    for (size_t layer = 0; layer < valid_.size(); ++layer) {
        if (!valid_[layer]) continue;
        const kernels::HipChunkLists list = masks_[layer].view();
        int32_t count = 0;
        HIP_CUDA_TRY(
            cudaMemcpyAsync(&count, list.counts, sizeof count, cudaMemcpyDeviceToHost, stream),
            "reading HiP's mask");
        HIP_CUDA_TRY(cudaMemcpyAsync(chunks.data(), list.chunks, chunks.size() * sizeof(int2),
                                     cudaMemcpyDeviceToHost, stream),
                     "reading HiP's mask");
        HIP_CUDA_TRY(cudaStreamSynchronize(stream), "reading HiP's mask");
        std::vector<KeyRange> ranges;
        for (int32_t i = 0; i < std::min(count, sizes_.mask); ++i)
            ranges.push_back({chunks[size_t(i)].x, chunks[size_t(i)].y});
        selections[layer] = attention::mergeRanges(std::move(ranges), end);
    }
    return selections;
}

} // namespace hip::backend
