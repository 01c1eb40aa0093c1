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

#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
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

// Device memory holding a copy of host values, freed with the object.
template <class T> class DeviceArray {
public:
    DeviceArray() = default;
    explicit DeviceArray(const std::vector<T>& values) : DeviceArray(values.size()) {
        cudaMemcpy(data_, values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice);
    }
    explicit DeviceArray(size_t count) : count_(count) {
        QTEST_ASSERT(cudaMalloc(&data_, std::max<size_t>(count, 1) * sizeof(T)) == cudaSuccess);
        cudaMemset(data_, 0, std::max<size_t>(count, 1) * sizeof(T));
    }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() { cudaFree(data_); }
    T* data() const { return data_; }
    std::vector<T> read() const {
        std::vector<T> values(count_);
        cudaDeviceSynchronize();
        cudaMemcpy(values.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost);
        return values;
    }

private:
    T* data_ = nullptr;
    size_t count_ = 0;
};

// One layer of a CPU KV store (keys unrotated) copied into a paged GPU layer as the CUDA backend
// keeps it: keys rotated at their positions by kernels::appendKv, and pages placed in a shuffled
// order, so a kernel that ignores the page table reads the wrong keys.
class DeviceKvLayer {
public:
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
        std::vector<int32_t> table(size_t(view_.kvHeads) * size_t(view_.pagesPerHead));
        std::iota(table.begin(), table.end(), 0);
        std::shuffle(table.begin(), table.end(), random);
        table_ = std::make_unique<DeviceArray<int32_t>>(table);
        view_.pageTable = table_->data();
        const size_t poolValues =
            table.size() * size_t(hip::kernels::kKvPageTokens) * size_t(view_.headDim);
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
        DeviceArray<float> deviceK(k), deviceV(v);
        DeviceArray<int32_t> devicePositions(positions);
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
