#pragma once
// What the CUDA suites share: the same inputs on the CPU reference backend and the CUDA backend,
// random weights in any block format, and the error measure they are compared with.

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/rope_tables.h"
#include "kernels/kv_append.h"
#include "kv/paged_kv_store.h"
#include "quant/quantize.h"

#include <QtTest>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <vector>

namespace cudatest {

// Skips the calling test (or the whole suite from initTestCase) when there is no usable GPU.
#define CUDATEST_REQUIRE_GPU()                                                                     \
    do {                                                                                           \
        auto device_ = hip::backend::queryCudaDevice(hip::backend::defaultCudaDevice());           \
        if (!device_) QSKIP(qPrintable(QString::fromStdString(device_.message())));                \
    } while (0)

inline std::vector<float> randomValues(size_t count, std::mt19937& random, float scale = 1.0f) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> values(count);
    for (float& v : values)
        v = normal(random);
    return values;
}

// ||a - b|| / ||b||, the relative error of a against the reference b. NaN compares as failure.
inline double relativeError(const std::vector<float>& a, const std::vector<float>& b) {
    double difference = 0.0, norm = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - double(b[i]);
        difference += d * d;
        norm += double(b[i]) * double(b[i]);
    }
    const double error = std::sqrt(difference / std::max(norm, 1e-30));
    return std::isfinite(error) ? error : 1e30;
}

// A weight matrix with random values, stored in `type` (rows of `cols` elements).
struct HostWeight {
    hip::backend::WeightView view;
    std::vector<uint8_t> bytes;
};

inline HostWeight randomWeight(hip::quant::GgmlType type, int64_t rows, int64_t cols,
                               std::mt19937& random, float scale = 0.1f) {
    HostWeight w;
    const uint64_t rowBytes = *hip::quant::rowBytes(type, cols);
    w.bytes.resize(rowBytes * uint64_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
        const std::vector<float> values = randomValues(size_t(cols), random, scale);
        if (type == hip::quant::GgmlType::F32)
            std::memcpy(w.bytes.data() + uint64_t(r) * rowBytes, values.data(), rowBytes);
        else
            hip::quant::quantizeRow(type, values.data(), w.bytes.data() + uint64_t(r) * rowBytes,
                                    cols);
    }
    w.view.name = "test weight";
    w.view.type = type;
    w.view.rows = rows;
    w.view.cols = cols;
    w.view.data = w.bytes.data();
    return w;
}

// One backend with helpers to place host data in its memory and read it back.
class Side {
public:
    explicit Side(std::unique_ptr<hip::backend::Backend> backend) : backend_(std::move(backend)) {}
    hip::backend::Backend& backend() { return *backend_; }
    bool onGpu() const { return dynamic_cast<hip::backend::CudaBackend*>(backend_.get()); }

    hip::backend::Act act(const std::vector<float>& values, int64_t rows, int64_t cols) {
        hip::backend::Act a = empty(rows, cols);
        if (onGpu()) {
            cudaMemcpy(a.data, values.data(), values.size() * sizeof(float),
                       cudaMemcpyHostToDevice);
            cudaDeviceSynchronize(); // the backend's stream does not wait for the legacy stream
        } else {
            std::memcpy(a.data, values.data(), values.size() * sizeof(float));
        }
        return a;
    }
    hip::backend::Act empty(int64_t rows, int64_t cols) {
        auto buffer = backend_->allocate(rows * cols);
        QTEST_ASSERT(buffer.isOk());
        buffers_.push_back(std::move(*buffer));
        return {buffers_.back()->data(), rows, cols, cols};
    }
    std::vector<float> read(hip::backend::Act a) {
        std::vector<float> values(size_t(a.rows * a.cols));
        backend_->copyToHost(a, values.data());
        return values;
    }
    const hip::backend::Weight& weight(const HostWeight& w) {
        auto uploaded = backend_->uploadWeight(w.view);
        QTEST_ASSERT(uploaded.isOk());
        weights_.push_back(std::move(*uploaded));
        return *weights_.back();
    }

private:
    std::unique_ptr<hip::backend::Backend> backend_;
    std::vector<std::unique_ptr<hip::backend::Buffer>> buffers_;
    std::vector<std::unique_ptr<hip::backend::Weight>> weights_;
};

inline std::unique_ptr<hip::backend::Backend>
cudaBackend(hip::kernels::Half16 kvType = hip::kernels::Half16::F16) {
    hip::backend::CudaBackendOptions options;
    options.kvType = kvType;
    auto backend = hip::backend::CudaBackend::create(options);
    QTEST_ASSERT(backend.isOk());
    return std::move(*backend);
}

// Device memory of `count` values, zeroed or a copy of host values, freed with the object. Copies
// are synchronous on the legacy stream; reads wait for every launched kernel and assert that
// they all succeeded.
template <class T> class DeviceArray {
public:
    explicit DeviceArray(const std::vector<T>& values) : DeviceArray(values.size()) {
        write(values);
    }
    explicit DeviceArray(size_t count) : count_(count) {
        QTEST_ASSERT(cudaMalloc(&data_, std::max<size_t>(count, 1) * sizeof(T)) == cudaSuccess);
        setBytes(0);
    }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() { cudaFree(data_); }
    T* data() const { return data_; }
    size_t size() const { return count_; }

    // Overwrites the first values.size() values.
    void write(std::span<const T> values) {
        QTEST_ASSERT(values.size() <= count_);
        if (values.empty()) return;
        QTEST_ASSERT(cudaMemcpy(data_, values.data(), values.size_bytes(),
                                cudaMemcpyHostToDevice) == cudaSuccess);
    }
    // Every byte set to `byte` (0xff makes floats NaN, so that unwritten outputs show).
    void setBytes(unsigned char byte) {
        QTEST_ASSERT(cudaMemset(data_, byte, std::max<size_t>(count_, 1) * sizeof(T)) ==
                     cudaSuccess);
    }
    std::vector<T> read() const {
        std::vector<T> values(count_);
        QTEST_ASSERT(cudaDeviceSynchronize() == cudaSuccess);
        QTEST_ASSERT(cudaMemcpy(values.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost) ==
                     cudaSuccess);
        return values;
    }

private:
    T* data_ = nullptr;
    size_t count_ = 0;
};

// Multiprocessors of the current device (what the backend passes to kernels that split work).
inline int32_t deviceMultiprocessors() {
    int device = 0, multiprocessors = 0;
    QTEST_ASSERT(cudaGetDevice(&device) == cudaSuccess);
    QTEST_ASSERT(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device) ==
                 cudaSuccess);
    return multiprocessors;
}

// HiP small enough that a context of a few hundred tokens is pruned in every stage, in a shape
// the GPU runs: 16 sinks, a 64-token window, stages 32/8/2 keeping 256/64/16 keys (32 in the
// first layer), dense below 128 tokens.
inline hip::AttentionConfig smallGpuHipConfig() {
    hip::AttentionConfig config = *hip::AttentionConfig::preset("hip-3k");
    config.sinkTokens = 16;
    config.windowTokens = 64;
    config.stages = {{32, 256, 4, 8}, {8, 64, 2, 4}, {2, 16, 1, 2}};
    config.firstLayers = 1;
    config.firstLayersFinalTokens = 32;
    config.denseBelowTokens = 128;
    return config;
}

// Attention of `heads` query heads over `kvHeads` KV heads scaled by 1/sqrt(headDim), keys and
// queries rotated in their first `ropeDims` dimensions (the default base, 10000).
inline hip::backend::AttentionParams attentionParams(int32_t heads, int32_t kvHeads,
                                                     int32_t headDim, int32_t ropeDims, bool neox) {
    hip::backend::AttentionParams params;
    params.heads = heads;
    params.kvHeads = kvHeads;
    params.headDim = headDim;
    params.scale = 1.0f / std::sqrt(float(headDim));
    params.rope.dims = ropeDims;
    params.rope.neox = neox;
    return params;
}

// Fills positions [0, tokens) of every layer of `store` with random keys and values (per layer
// all keys, then all values, drawn from `random`).
inline void fillRandomly(hip::kv::PagedKvStore& store, int64_t tokens, std::mt19937& random) {
    QTEST_ASSERT(store.reserve(tokens).isOk());
    const int64_t cols = store.rowFloats();
    for (int32_t layer = 0; layer < store.layers(); ++layer) {
        const std::vector<float> k = randomValues(size_t(tokens * cols), random);
        const std::vector<float> v = randomValues(size_t(tokens * cols), random);
        for (int64_t p = 0; p < tokens; ++p) {
            std::copy_n(k.begin() + p * cols, cols, store.keys(layer, p));
            std::copy_n(v.begin() + p * cols, cols, store.values(layer, p));
        }
    }
    store.setTokens(tokens);
}

// One layer of a CPU KV store (keys unrotated) copied into a paged GPU layer as the CUDA backend
// keeps it: keys rotated at their positions by kernels::appendKv, pages placed in a shuffled
// order in a pool two pages larger than the layer, so that page numbers do not just permute the
// dense layout and a kernel that ignores the page table reads the wrong keys.
class DeviceKvLayer {
public:
    static constexpr int32_t kSparePages = 2;

    DeviceKvLayer(const hip::kv::PagedKvStore& store, int32_t layer,
                  const hip::backend::RopeParams& rope, hip::kernels::Half16 type,
                  int64_t ropePositions, std::mt19937& random)
        : rope_(rope) {
        const int64_t tokens = store.tokens(), rowFloats = store.rowFloats();
        QTEST_ASSERT(rope_.cover(std::max(ropePositions, tokens), pool_, nullptr).isOk());
        view_.kvHeads = store.kvHeads();
        view_.headDim = store.headDim();
        view_.type = type;
        view_.pagesPerHead =
            int32_t((tokens + hip::kernels::kKvPageTokens - 1) / hip::kernels::kKvPageTokens);
        view_.capacity = int64_t(view_.pagesPerHead) * hip::kernels::kKvPageTokens;
        const size_t tablePages = size_t(view_.kvHeads) * size_t(view_.pagesPerHead);
        std::vector<int32_t> pages(tablePages + kSparePages);
        std::iota(pages.begin(), pages.end(), 0);
        std::shuffle(pages.begin(), pages.end(), random);
        const size_t poolValues =
            pages.size() * size_t(hip::kernels::kKvPageTokens) * size_t(view_.headDim);
        pages.resize(tablePages);
        table_ = std::make_unique<DeviceArray<int32_t>>(pages);
        view_.pageTable = table_->data();
        keys_ = std::make_unique<DeviceArray<uint16_t>>(poolValues);
        values_ = std::make_unique<DeviceArray<uint16_t>>(poolValues);
        view_.keys = keys_->data();
        view_.values = values_->data();

        std::vector<float> k(size_t(tokens * rowFloats)), v(k.size());
        std::vector<int32_t> positions(static_cast<size_t>(tokens));
        for (int64_t p = 0; p < tokens; ++p) {
            std::memcpy(k.data() + p * rowFloats, store.keys(layer, p), rowFloats * 4);
            std::memcpy(v.data() + p * rowFloats, store.values(layer, p), rowFloats * 4);
            positions[size_t(p)] = int32_t(p);
        }
        const DeviceArray<float> deviceK(k), deviceV(v);
        const DeviceArray<int32_t> devicePositions(positions);
        const hip::kernels::Rows kRows{deviceK.data(), tokens, rowFloats, rowFloats};
        const hip::kernels::Rows vRows{deviceV.data(), tokens, rowFloats, rowFloats};
        QTEST_ASSERT(hip::kernels::appendKv(kRows, vRows, devicePositions.data(), rope_.view(),
                                            view_, nullptr) == cudaSuccess);
        QTEST_ASSERT(cudaDeviceSynchronize() == cudaSuccess);
    }
    const hip::kernels::KvLayer& view() const { return view_; }
    const hip::kernels::RopeTables& rope() const { return rope_.view(); }

private:
    hip::backend::DevicePool pool_;
    hip::backend::DeviceRopeTables rope_;
    std::unique_ptr<DeviceArray<int32_t>> table_;
    std::unique_ptr<DeviceArray<uint16_t>> keys_, values_;
    hip::kernels::KvLayer view_;
};

} // namespace cudatest
