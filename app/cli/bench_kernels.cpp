// hipreader-cli bench kernels: each CUDA kernel's time against its arithmetic and memory limits,
// measured on this card. The limits are measured first (a large device-to-device copy for the
// bandwidth, counting bytes read and written; a large cuBLAS fp16 product for the matrix rate).
// Inputs are random (never zeros); memory-bound kernels rotate over enough copies of their
// inputs to defeat the L2 cache; each time is the median of several CUDA-event timings after a
// warm-up.

#include "bench_kernels.h"
#include "cli_common.h"

#include "backend/cuda/attention_timer.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/rope_tables.h"
#include "hip/attention_config.h"
#include "kernels/argmax.h"
#include "kernels/convert.h"
#include "kernels/dequantize.h"
#include "kernels/embedding.h"
#include "kernels/flash_decode.h"
#include "kernels/flash_prefill.h"
#include "kernels/hip_sparse_attention.h"
#include "kernels/kv_append.h"
#include "kernels/matvec.h"
#include "kernels/quantize_activations.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/sampling.h"
#include "kernels/swiglu.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cli {
namespace {

using hip::quant::GgmlType;

// Working sets below this are repeated in several copies so that timings read device memory,
// not the L2 cache (50-60 MB on an H100/H200).
constexpr uint64_t kRotationBytes = 512ull << 20;

// Selected keys per query block in the HiP benchmarks: hip-3k's final budget.
constexpr int64_t kHipSelectedKeys = 2048;

struct Failure {
    std::string message;
};

void check(cudaError_t error, const char* what) {
    if (error != cudaSuccess) throw Failure{std::string(what) + ": " + cudaGetErrorString(error)};
}

// Device memory freed at the end of the benchmark.
class Arena {
public:
    ~Arena() {
        for (void* p : blocks_)
            cudaFree(p);
    }
    void* allocate(uint64_t bytes) {
        void* p = nullptr;
        check(cudaMalloc(&p, std::max<uint64_t>(bytes, 16)), "cudaMalloc");
        blocks_.push_back(p);
        return p;
    }
    template <class T> T* array(uint64_t count) {
        return static_cast<T*>(allocate(count * sizeof(T)));
    }

private:
    std::vector<void*> blocks_;
};

std::mt19937 random(20261126);

// Fills `bytes` of device memory by repeating a host pattern of up to 64 MiB.
void fill(void* device, uint64_t bytes, const std::vector<uint8_t>& pattern) {
    for (uint64_t done = 0; done < bytes; done += pattern.size())
        check(cudaMemcpy(static_cast<uint8_t*>(device) + done, pattern.data(),
                         std::min<uint64_t>(pattern.size(), bytes - done), cudaMemcpyHostToDevice),
              "filling inputs");
}

std::vector<uint8_t> floatPattern(uint64_t bytes, float scale) {
    std::vector<uint8_t> pattern(std::min<uint64_t>(bytes, 64ull << 20) / 4 * 4);
    std::normal_distribution<float> normal(0.0f, scale);
    for (size_t i = 0; i < pattern.size(); i += 4) {
        const float v = normal(random);
        std::memcpy(&pattern[i], &v, 4);
    }
    return pattern;
}

std::vector<uint8_t> halfPattern(uint64_t bytes, float scale) {
    std::vector<uint8_t> pattern(std::min<uint64_t>(bytes, 64ull << 20) / 2 * 2);
    std::normal_distribution<float> normal(0.0f, scale);
    for (size_t i = 0; i < pattern.size(); i += 2) {
        const uint16_t h = hip::quant::floatToHalf(normal(random));
        std::memcpy(&pattern[i], &h, 2);
    }
    return pattern;
}

// Rows of a weight in `type`, from 64 quantized random rows repeated.
std::vector<uint8_t> weightPattern(GgmlType type, int64_t cols, float scale) {
    const uint64_t rowBytes = *hip::quant::rowBytes(type, cols);
    std::vector<uint8_t> pattern(rowBytes * 64);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> values(static_cast<size_t>(cols));
    for (int r = 0; r < 64; ++r) {
        for (float& v : values)
            v = normal(random);
        hip::quant::quantizeRow(type, values.data(), pattern.data() + r * rowBytes, cols);
    }
    return pattern;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median time in microseconds of launch(i), i counting launches (to rotate inputs). Several
// launches go between two events when one is short, so launch gaps do not count.
double timeMicroseconds(const std::function<void(int)>& launch, int repeat) {
    cudaEvent_t begin, end;
    check(cudaEventCreate(&begin), "cudaEventCreate");
    check(cudaEventCreate(&end), "cudaEventCreate");
    int counter = 0;
    for (int w = 0; w < 3; ++w)
        launch(counter++);
    check(cudaDeviceSynchronize(), "warm-up");
    int inner = 1;
    std::vector<double> samples;
    for (int r = 0; r < repeat + 1; ++r) {
        check(cudaEventRecord(begin), "cudaEventRecord");
        for (int i = 0; i < inner; ++i)
            launch(counter++);
        check(cudaEventRecord(end), "cudaEventRecord");
        check(cudaEventSynchronize(end), "timing");
        float ms = 0.0f;
        check(cudaEventElapsedTime(&ms, begin, end), "cudaEventElapsedTime");
        const double us = 1000.0 * ms / inner;
        if (r == 0)
            inner = std::max(1, int(200.0 / std::max(us, 0.1))); // ~0.2 ms per sample
        else
            samples.push_back(us);
    }
    check(cudaGetLastError(), "a timed kernel");
    cudaEventDestroy(begin);
    cudaEventDestroy(end);
    return median(samples);
}

struct Limits {
    double bandwidth = 0.0;  // bytes/s, read + written
    double matrixRate = 0.0; // fp16 FLOP/s through cuBLAS
};

struct Row {
    std::string kernel, shape;
    double us = 0.0, bytes = 0.0, flops = 0.0;
};

class Bench {
public:
    // `filter`: run only the kernels whose name contains it (empty: all).
    Bench(const hip::backend::CudaDeviceInfo& device, int repeat, std::string filter)
        : device_(device), repeat_(repeat), filter_(std::move(filter)) {}

    void measureLimits() {
        const uint64_t bytes = 2ull << 30;
        void* a = arena_.allocate(bytes);
        void* b = arena_.allocate(bytes);
        fill(a, bytes, floatPattern(bytes, 1.0f));
        const double copyUs = timeMicroseconds(
            [&](int) { check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice), "copy"); },
            repeat_);
        limits_.bandwidth = 2.0 * double(bytes) / (copyUs * 1e-6);

        const int n = 8192;
        auto* x = arena_.array<uint16_t>(uint64_t(n) * n);
        auto* y = arena_.array<uint16_t>(uint64_t(n) * n);
        auto* z = arena_.array<uint16_t>(uint64_t(n) * n);
        fill(x, uint64_t(n) * n * 2, halfPattern(uint64_t(n) * n * 2, 1.0f));
        fill(y, uint64_t(n) * n * 2, halfPattern(uint64_t(n) * n * 2, 1.0f));
        cublasHandle_t handle;
        if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw Failure{"cublasCreate failed"};
        const float one = 1.0f, zero = 0.0f;
        const double gemmUs = timeMicroseconds(
            [&](int) {
                cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, x, CUDA_R_16F, n, y,
                             CUDA_R_16F, n, &zero, z, CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT);
            },
            repeat_);
        limits_.matrixRate = 2.0 * n * double(n) * n / (gemmUs * 1e-6);
        cublasDestroy(handle);
    }

    // Copies of an input so that `copies * bytes` exceeds the L2 cache.
    static int copiesFor(uint64_t bytes) {
        return int(std::max<uint64_t>(1, (kRotationBytes + bytes - 1) / bytes));
    }

    // Block formats read x quantized: the products alone (x quantized once before), then the
    // quantization and the products back to back, which is what they cost when no other product
    // shares their x. Several row counts are matrices of one launch reading the same x (q, k and
    // v; gate and up), as the backend runs them in a decode step.
    void matvec(GgmlType type, const std::vector<int64_t>& rowCounts, int64_t cols) {
        const int count = int(rowCounts.size());
        const std::string name = "matvec " + std::string(hip::quant::typeName(type)) +
                                 (count > 1 ? ", " + std::to_string(count) + " matrices" : "");
        if (skip(name)) return;
        const uint64_t rowBytes = *hip::quant::rowBytes(type, cols);
        int64_t rows = 0;
        std::string rowText;
        for (int64_t r : rowCounts) {
            rows += r;
            rowText += (rowText.empty() ? "" : "+") + std::to_string(r);
        }
        const uint64_t bytes = rowBytes * uint64_t(rows);
        const int copies = copiesFor(bytes);
        auto* w = static_cast<uint8_t*>(arena_.allocate(bytes * uint64_t(copies)));
        fill(w, bytes * uint64_t(copies), weightPattern(type, cols, 0.02f));
        float* x = arena_.array<float>(uint64_t(cols));
        fill(x, uint64_t(cols) * 4, floatPattern(uint64_t(cols) * 4, 1.0f));
        float* y = arena_.array<float>(uint64_t(rows));
        const bool quantized = hip::kernels::matvecReadsQuantizedX(type);
        const hip::kernels::Rows input{x, 1, cols, cols};
        void* xq = nullptr;
        if (quantized) {
            xq = arena_.allocate(uint64_t(hip::kernels::quantizedRowBytes(cols)));
            check(hip::kernels::quantizeActivations(input, xq, nullptr), "quantizing x");
        }
        // Copy c of the weights holds the matrices one after another, as does y.
        std::vector<std::vector<hip::kernels::MatvecMatrix>> launches(static_cast<size_t>(copies));
        for (int c = 0; c < copies; ++c) {
            int64_t first = 0;
            for (int64_t r : rowCounts) {
                launches[size_t(c)].push_back({w + uint64_t(c) * bytes + uint64_t(first) * rowBytes,
                                               int64_t(rowBytes), r, nullptr, y + first});
                first += r;
            }
        }
        const auto product = [&](int i) {
            check(hip::kernels::matvec(launches[size_t(i % copies)].data(), count, type, cols, x,
                                       xq, nullptr),
                  "matvec");
        };
        const std::string what = rowText + "x" + std::to_string(cols);
        const double xBytes =
            quantized ? double(hip::kernels::quantizedRowBytes(cols)) : 4.0 * double(cols);
        const double flops = 2.0 * double(rows) * double(cols);
        add(name, what, timeMicroseconds(product, repeat_),
            double(bytes) + xBytes + 4.0 * double(rows), flops);
        if (!quantized) return;
        const double both = timeMicroseconds(
            [&](int i) {
                check(hip::kernels::quantizeActivations(input, xq, nullptr), "quantizing x");
                product(i);
            },
            repeat_);
        // x read in fp32, written and read quantized.
        add("quantize x + " + name, what, both,
            double(bytes) + 4.0 * double(cols) + 2.0 * xBytes + 4.0 * double(rows), flops);
    }

    void dequantize(GgmlType type, int64_t rows, int64_t cols) {
        if (skip("dequantize " + std::string(hip::quant::typeName(type)))) return;
        const uint64_t rowBytes = *hip::quant::rowBytes(type, cols);
        const uint64_t bytes = rowBytes * uint64_t(rows);
        const int copies = copiesFor(bytes);
        auto* w = static_cast<uint8_t*>(arena_.allocate(bytes * uint64_t(copies)));
        fill(w, bytes * uint64_t(copies), weightPattern(type, cols, 0.02f));
        void* out = arena_.allocate(uint64_t(rows) * uint64_t(cols) * 2);
        const double us = timeMicroseconds(
            [&](int i) {
                check(hip::kernels::dequantizeRows(w + uint64_t(i % copies) * bytes, type,
                                                   int64_t(rowBytes), 0, rows, cols, out,
                                                   hip::kernels::Half16::F16, nullptr),
                      "dequantize");
            },
            repeat_);
        add("dequantize " + std::string(hip::quant::typeName(type)) + " to fp16", shape(rows, cols),
            us, double(bytes) + 2.0 * double(rows) * double(cols), 0.0);
    }

    // The prefill matrix product as the backend runs it: fp16 operands, fp32 output.
    void gemm(int64_t tokens, int64_t outputs, int64_t cols) {
        if (skip("cuBLAS")) return;
        auto* x = arena_.array<uint16_t>(uint64_t(tokens * cols));
        auto* w = arena_.array<uint16_t>(uint64_t(outputs * cols));
        auto* y = arena_.array<float>(uint64_t(tokens * outputs));
        fill(x, uint64_t(tokens * cols) * 2, halfPattern(uint64_t(tokens * cols) * 2, 1.0f));
        fill(w, uint64_t(outputs * cols) * 2, halfPattern(uint64_t(outputs * cols) * 2, 0.02f));
        cublasHandle_t handle;
        if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw Failure{"cublasCreate failed"};
        const float one = 1.0f, zero = 0.0f;
        const double us = timeMicroseconds(
            [&](int) {
                cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(outputs), int(tokens), int(cols),
                             &one, w, CUDA_R_16F, int(cols), x, CUDA_R_16F, int(cols), &zero, y,
                             CUDA_R_32F, int(outputs), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
            },
            repeat_);
        cublasDestroy(handle);
        add("cuBLAS fp16 -> fp32 product", std::to_string(tokens) + " x " + shape(outputs, cols),
            us, 2.0 * double(tokens * cols + outputs * cols) + 4.0 * double(tokens * outputs),
            2.0 * double(tokens) * double(outputs) * double(cols));
    }

    void elementwise(int64_t rows, int64_t hidden, int64_t ffn) {
        if (skip("RMSNorm SwiGLU operand embedding")) return;
        const auto rowsOf = [&](int64_t cols) {
            const uint64_t bytes = uint64_t(rows * cols) * 4;
            float* data = arena_.array<float>(uint64_t(rows * cols));
            fill(data, bytes, floatPattern(bytes, 1.0f));
            return hip::kernels::Rows{data, rows, cols, cols};
        };
        const hip::kernels::Rows x = rowsOf(hidden), y = rowsOf(hidden), out = rowsOf(hidden);
        float* gamma = arena_.array<float>(uint64_t(hidden));
        fill(gamma, uint64_t(hidden) * 4, floatPattern(uint64_t(hidden) * 4, 1.0f));
        const double h = double(rows * hidden) * 4.0, f = double(rows * ffn) * 4.0;
        add("RMSNorm", shape(rows, hidden),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::rmsNorm(x, nullptr, gamma, 1e-5f, out, nullptr), "rmsNorm");
                },
                repeat_),
            2.0 * h, 0.0);
        add("residual add + RMSNorm", shape(rows, hidden),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::rmsNorm(x, &y, gamma, 1e-5f, out, nullptr), "rmsNorm");
                },
                repeat_),
            4.0 * h, 0.0);
        const hip::kernels::Rows gate = rowsOf(ffn), up = rowsOf(ffn);
        add("SwiGLU", shape(rows, ffn),
            timeMicroseconds(
                [&](int) { check(hip::kernels::swiglu(gate, up, gate, nullptr), "swiglu"); },
                repeat_),
            3.0 * f, 0.0);
        void* half = arena_.allocate(uint64_t(rows * ffn) * 2);
        add("fp32 -> fp16 operand", shape(rows, ffn),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::convertRows(gate, half, hip::kernels::Half16::F16, nullptr),
                          "convert");
                },
                repeat_),
            1.5 * f, 0.0);

        // Embedding rows of a Q4_K table, and the query rotation of the prefill path.
        const int64_t vocab = 32768;
        const uint64_t rowBytes = *hip::quant::rowBytes(GgmlType::Q4_K, hidden);
        auto* table = static_cast<uint8_t*>(arena_.allocate(rowBytes * uint64_t(vocab)));
        fill(table, rowBytes * uint64_t(vocab), weightPattern(GgmlType::Q4_K, hidden, 1.0f));
        std::vector<int32_t> ids(static_cast<size_t>(rows));
        for (auto& id : ids)
            id = int32_t(random() % vocab);
        int32_t* deviceIds = arena_.array<int32_t>(ids.size());
        check(cudaMemcpy(deviceIds, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice), "ids");
        add("embedding Q4_K", shape(rows, hidden),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::embed(table, GgmlType::Q4_K, int64_t(rowBytes), deviceIds,
                                              out, nullptr),
                          "embed");
                },
                repeat_),
            double(rows) * double(rowBytes) + h, 0.0);
    }

    void ropeAndAppend(int64_t rows, int32_t heads, int32_t kvHeads, int32_t headDim) {
        if (skip("query rotation KV append")) return;
        const int64_t qCols = int64_t(heads) * headDim, kvCols = int64_t(kvHeads) * headDim;
        float* q = arena_.array<float>(uint64_t(rows * qCols));
        fill(q, uint64_t(rows * qCols) * 4, floatPattern(uint64_t(rows * qCols) * 4, 1.0f));
        std::vector<int32_t> positions(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r)
            positions[size_t(r)] = int32_t(r);
        int32_t* devicePositions = arena_.array<int32_t>(positions.size());
        check(cudaMemcpy(devicePositions, positions.data(), positions.size() * 4,
                         cudaMemcpyHostToDevice),
              "positions");
        const hip::kernels::RopeTables tables = ropeTables(headDim, rows);
        void* out = arena_.allocate(uint64_t(rows * qCols) * 2);
        add("query rotation to fp16", shape(rows, qCols),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::ropeRows({q, rows, qCols, qCols}, heads, headDim,
                                                 devicePositions, tables, 0.1f, out, rows * headDim,
                                                 hip::kernels::Half16::F16, nullptr),
                          "rope");
                },
                repeat_),
            6.0 * double(rows * qCols), 0.0);
        const hip::kernels::KvLayer layer = emptyKvLayer(rows, kvHeads, headDim);
        const hip::kernels::Rows k{q, rows, kvCols, qCols};
        add("KV append", shape(rows, 2 * kvCols),
            timeMicroseconds(
                [&](int) {
                    check(hip::kernels::appendKv(k, k, devicePositions, tables, layer, nullptr),
                          "append");
                },
                repeat_),
            12.0 * double(rows * kvCols), 0.0);
    }

    // Causal prefill: T queries over T keys (GQA heads/kvHeads, rotated keys).
    void prefill(int64_t tokens, int32_t heads, int32_t kvHeads, int32_t headDim,
                 hip::kernels::PrefillTile tile) {
        if (skip("prefill attention")) return;
        hip::kernels::PrefillAttention a;
        const uint64_t qElements = uint64_t(tokens) * uint64_t(heads) * uint64_t(headDim);
        const uint64_t kvElements = uint64_t(tokens) * uint64_t(kvHeads) * uint64_t(headDim);
        void* q = arena_.allocate(qElements * 2);
        fill(q, qElements * 2, halfPattern(qElements * 2, 0.2f));
        a.q = q;
        a.qHeadStride = tokens * headDim;
        a.kv = kvLayer(tokens, kvHeads, headDim);
        a.heads = heads;
        a.rows = tokens;
        a.start = 0;
        float* out = arena_.array<float>(qElements);
        a.out = {out, tokens, int64_t(heads) * headDim, int64_t(heads) * headDim};
        const double us = timeMicroseconds(
            [&](int) { check(hip::kernels::flashPrefill(a, nullptr, tile), "prefill"); },
            std::max(3, repeat_ / 4));
        const double flops =
            2.0 * 2.0 * double(headDim) * double(heads) * double(tokens) * double(tokens + 1) / 2.0;
        add(std::string("prefill attention (") +
                (tile == hip::kernels::PrefillTile::WarpRows32 ? "32" : "16") + " rows/warp)",
            "T=" + std::to_string(tokens) + " " + std::to_string(heads) + "/" +
                std::to_string(kvHeads) + "x" + std::to_string(headDim),
            us, double(qElements) * 6.0 + double(kvElements) * 4.0, flops);
    }

    void decode(int64_t tokens, int32_t heads, int32_t kvHeads, int32_t headDim) {
        if (skip("decode attention")) return;
        hip::kernels::DecodeAttention a;
        const int64_t kvBytes = tokens * kvHeads * headDim * 2 * 2;
        const int copies = copiesFor(uint64_t(kvBytes));
        std::vector<hip::kernels::KvLayer> layers;
        for (int c = 0; c < copies; ++c)
            layers.push_back(kvLayer(tokens, kvHeads, headDim));
        float* q = arena_.array<float>(uint64_t(heads) * headDim);
        fill(q, uint64_t(heads) * headDim * 4, floatPattern(uint64_t(heads) * headDim * 4, 1.0f));
        const int32_t length = int32_t(tokens);
        int32_t* deviceLength = arena_.array<int32_t>(1);
        check(cudaMemcpy(deviceLength, &length, 4, cudaMemcpyHostToDevice), "length");
        a.q = q;
        a.rope = ropeTables(headDim, tokens);
        a.heads = heads;
        a.scale = 1.0f / std::sqrt(float(headDim));
        a.length = deviceLength;
        a.splits = hip::kernels::decodeSplits(layers[0], device_.multiprocessors);
        a.partials = arena_.array<float>(uint64_t(heads) * a.splits * (headDim + 2));
        a.rangesDone = arena_.array<int>(uint64_t(kvHeads));
        check(cudaMemset(a.rangesDone, 0, uint64_t(kvHeads) * sizeof(int)), "cudaMemset");
        a.out = arena_.array<float>(uint64_t(heads) * headDim);
        const double us = timeMicroseconds(
            [&](int i) {
                a.kv = layers[size_t(i % copies)];
                check(hip::kernels::flashDecode(a, nullptr), "decode");
            },
            repeat_);
        add("decode attention (split KV)",
            "T=" + std::to_string(tokens) + " " + std::to_string(heads) + "/" +
                std::to_string(kvHeads) + "x" + std::to_string(headDim) + ", " +
                std::to_string(a.splits) + " splits",
            us, double(kvBytes), 4.0 * double(tokens) * heads * headDim);
    }

    // HiP block-sparse prefill: `rows` queries ending at `context`, query blocks of 64, each
    // with a random mask of 2048 keys (hip-3k's final budget) in chunks of 8.
    void hipPrefill(int64_t context, int64_t rows, int32_t heads, int32_t kvHeads,
                    int32_t headDim) {
        if (skip("hip sparse prefill")) return;
        hip::kernels::HipSparseAttention a;
        const int64_t cols = int64_t(heads) * headDim;
        float* q = arena_.array<float>(uint64_t(rows * cols));
        fill(q, uint64_t(rows * cols) * 4, floatPattern(uint64_t(rows * cols) * 4, 1.0f));
        a.queries.q = q;
        a.queries.stride = cols;
        a.queries.rows = int32_t(rows);
        a.queries.heads = heads;
        a.queries.firstPosition = context - rows;
        a.kv = kvLayer(context, kvHeads, headDim);
        a.rope = ropeTables(headDim, context);
        a.scale = 1.0f / std::sqrt(float(headDim));
        std::vector<int64_t> lastPositions;
        for (int64_t first = 0; first < rows; first += a.queries.blockRows)
            lastPositions.push_back(a.queries.firstPosition +
                                    std::min<int64_t>(rows, first + a.queries.blockRows) - 1);
        a.mask = randomMasks(lastPositions, a.window);
        a.out = {arena_.array<float>(uint64_t(rows * cols)), rows, cols, cols};
        const double us = timeMicroseconds(
            [&](int) { check(hip::kernels::hipSparsePrefill(a, nullptr), "hip prefill"); },
            std::max(3, repeat_ / 4));
        // Keys per row (a row sees 0-63 window keys fewer than its block's tiles hold); bytes:
        // q and out in fp32, keys and values as read once per query block and KV head.
        const double keys = double(a.window.sinkTokens + kHipSelectedKeys + a.window.windowTokens);
        const double blocks = double(lastPositions.size());
        add("hip sparse prefill",
            "T=" + std::to_string(context) + " rows=" + std::to_string(rows) + " " +
                std::to_string(heads) + "/" + std::to_string(kvHeads) + "x" +
                std::to_string(headDim),
            us, 8.0 * double(rows * cols) + blocks * kvHeads * (keys + 64) * headDim * 4.0,
            4.0 * double(headDim) * heads * double(rows) * keys);
    }

    // HiP block-sparse decode at `context`: each launch takes the next of several positions
    // 2048 apart, each with its own mask, so that the keys come from device memory (only the
    // sinks repeat).
    void hipDecode(int64_t context, int32_t heads, int32_t kvHeads, int32_t headDim) {
        if (skip("hip sparse decode")) return;
        hip::kernels::HipSparseAttention a;
        const int64_t cols = int64_t(heads) * headDim;
        const double keys = double(a.window.sinkTokens + kHipSelectedKeys + a.window.windowTokens);
        const double kvBytes = keys * kvHeads * headDim * 4.0;
        const int copies = int(std::min<int64_t>(copiesFor(uint64_t(kvBytes)),
                                                 (context - 4 * a.window.windowTokens) / 2048));
        if (copies < 1) return;
        float* q = arena_.array<float>(uint64_t(cols));
        fill(q, uint64_t(cols) * 4, floatPattern(uint64_t(cols) * 4, 1.0f));
        a.queries.q = q;
        a.queries.stride = cols;
        a.queries.rows = 1;
        a.queries.heads = heads;
        a.kv = kvLayer(context, kvHeads, headDim);
        a.rope = ropeTables(headDim, context);
        a.scale = 1.0f / std::sqrt(float(headDim));
        std::vector<int64_t> positions;
        std::vector<int32_t> lengths;
        for (int c = 0; c < copies; ++c) {
            positions.push_back(context - 1 - int64_t(c) * 2048);
            lengths.push_back(int32_t(positions.back() + 1));
        }
        int32_t* deviceLengths = arena_.array<int32_t>(lengths.size());
        check(cudaMemcpy(deviceLengths, lengths.data(), lengths.size() * 4, cudaMemcpyHostToDevice),
              "lengths");
        const hip::kernels::HipChunkLists masks = randomMasks(positions, a.window);
        a.out = {arena_.array<float>(uint64_t(cols)), 1, cols, cols};
        hip::kernels::HipDecodeScratch scratch;
        scratch.keysPerHead = int64_t(keys);
        scratch.multiprocessors = device_.multiprocessors;
        const uint64_t scratchBytes = hip::kernels::hipSparseDecodeScratchBytes(
            heads, kvHeads, headDim, scratch.keysPerHead, scratch.multiprocessors);
        scratch.data = arena_.allocate(scratchBytes);
        check(cudaMemset(scratch.data, 0, scratchBytes), "cudaMemset");
        const double us = timeMicroseconds(
            [&](int i) {
                const int c = i % copies;
                a.queries.length = deviceLengths + c;
                a.mask = {masks.chunks + int64_t(c) * masks.capacity, masks.counts + c,
                          masks.capacity};
                check(hip::kernels::hipSparseDecode(a, scratch, nullptr), "hip decode");
            },
            repeat_);
        add("hip sparse decode (split keys)",
            "T=" + std::to_string(context) + " " + std::to_string(heads) + "/" +
                std::to_string(kvHeads) + "x" + std::to_string(headDim),
            us, kvBytes, 4.0 * keys * heads * headDim);
    }

    // Greedy and sampled tokens from one row of logits, spread about as a model's are. The
    // sampling rows count one read of the logits; the kernel reads them once per pass.
    void argmax(int64_t count) {
        if (skip("argmax sampling")) return;
        float* values = arena_.array<float>(uint64_t(count));
        fill(values, uint64_t(count) * 4, floatPattern(uint64_t(count) * 4, 3.0f));
        int32_t* result = arena_.array<int32_t>(1);
        add("argmax (greedy token)", std::to_string(count),
            timeMicroseconds(
                [&](int) { check(hip::kernels::argmax(values, count, result, nullptr), "argmax"); },
                repeat_),
            4.0 * double(count), 0.0);
        struct Sampling {
            const char* name;
            hip::kernels::SamplingParams params;
        };
        const Sampling samplings[] = {
            {"sampling (T 0.8, top-k 40, top-p 0.95, min-p 0.05)", {0.8f, 40, 0.95f, 0.05f, 1.0f}},
            {"sampling (T 1, min-p 0.05)", {1.0f, 0, 1.0f, 0.05f, 1.0f}},
            {"sampling (T 1, top-p 0.95 of the whole vocabulary)", {1.0f, 0, 0.95f, 0.0f, 1.0f}},
        };
        for (const Sampling& sampling : samplings)
            add(sampling.name, std::to_string(count),
                timeMicroseconds(
                    [&](int i) {
                        check(hip::kernels::sampleToken(values, count, nullptr, 0, sampling.params,
                                                        double(i % 97) / 97.0, result, nullptr),
                              "sampling");
                    },
                    repeat_),
                4.0 * double(count), 0.0);
    }

    void print() const {
        std::printf("\n%s, %d SMs: measured limits %.0f GB/s (copy, read + write), %.0f TFLOP/s "
                    "(cuBLAS fp16 8192^3)\n\n",
                    device_.name.c_str(), device_.multiprocessors, limits_.bandwidth / 1e9,
                    limits_.matrixRate / 1e12);
        std::printf("| kernel | shape | time us | GB/s | TFLOP/s | of memory limit | of matrix "
                    "limit |\n|---|---|---|---|---|---|---|\n");
        for (const Row& r : rows_) {
            const double seconds = r.us * 1e-6;
            const std::string ofMatrix =
                r.flops > 0
                    ? std::to_string(int(100.0 * r.flops / seconds / limits_.matrixRate)) + "%"
                    : "-";
            std::printf("| %s | %s | %.1f | %.0f | %.1f | %.0f%% | %s |\n", r.kernel.c_str(),
                        r.shape.c_str(), r.us, r.bytes / seconds / 1e9, r.flops / seconds / 1e12,
                        100.0 * r.bytes / seconds / limits_.bandwidth, ofMatrix.c_str());
        }
    }

    // Dense and HiP (`config`) attention layers through the CUDA backend, as the engine runs
    // them (backend/cuda/attention_timer.h), over a bf16 cache of random keys at each of
    // `contexts`: prefill = the last `rows` queries in one call, decode = one step in a graph
    // minus the same step without attention. Wall-clock times, host work included. Then the
    // crossover the backend measures for this shape with the engine's 1,024-row prefill passes.
    // The filter picks parts: "attention layer prefill", "... decode", "... crossover".
    void layers(const hip::AttentionConfig& config, const std::vector<int64_t>& contexts,
                int64_t rows, int32_t heads, int32_t kvHeads, int32_t headDim) {
        const bool prefill = !skip("attention layer prefill");
        const bool decode = !skip("attention layer decode");
        const bool crossing = !skip("attention layer crossover");
        if (!(prefill || decode || crossing) || contexts.empty()) return;
        hip::backend::CudaBackendOptions options;
        options.kvType = hip::kernels::Half16::BF16;
        auto created = hip::backend::CudaBackend::create(options);
        if (!created) throw Failure{created.message()};
        hip::backend::CudaBackend& b = **created;
        hip::backend::AttentionParams shape;
        shape.heads = heads;
        shape.kvHeads = kvHeads;
        shape.headDim = headDim;
        shape.scale = 1.0f / std::sqrt(float(headDim));
        shape.rope.dims = headDim;
        shape.rope.freqBase = 500000.0f;
        const std::string shapeText =
            std::to_string(heads) + "/" + std::to_string(kvHeads) + "x" + std::to_string(headDim);
        const auto value = [](auto result) {
            if (!result) throw Failure{result.message()};
            return std::move(*result);
        };
        const hip::AttentionConfig dense;
        for (int64_t context : contexts) {
            const int64_t passRows = std::min(rows, context);
            auto timer =
                value(hip::backend::AttentionTimer::create(b, shape, context, int32_t(passRows)));
            const std::string at = "T=" + std::to_string(context);
            const double without = decode ? value(timer->decodeStepMicros(nullptr, context)) : 0;
            for (const hip::AttentionConfig* c : {&dense, &config}) {
                if (prefill)
                    add(c->name + " prefill (engine)",
                        at + " last " + std::to_string(passRows) + " " + shapeText,
                        value(timer->prefillMicros(*c, context)), 0.0, 0.0);
                if (decode)
                    add(c->name + " decode step (engine, graph)",
                        at + " " + shapeText + ", step " + std::to_string(int(without)) +
                            " us without",
                        value(timer->decodeStepMicros(c, context)) - without, 0.0, 0.0);
            }
        }
        if (!crossing) return;
        const int64_t longest = *std::max_element(contexts.begin(), contexts.end());
        const auto begin = std::chrono::steady_clock::now();
        const hip::DenseCrossover crossover =
            value(b.prepareAttention(shape, config, longest, 1024));
        const double micros =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin)
                .count();
        add(config.name + " crossover " + (crossover.measured ? "(measured)" : "(not measured)"),
            "prefill " + std::to_string(crossover.prefillTokens) + ", decode " +
                std::to_string(crossover.decodeTokens) + " tokens, " + shapeText,
            micros, 0.0, 0.0);
    }

private:
    // Whether a benchmark (its kernels' names, space-separated) is filtered out.
    bool skip(const std::string& names) const {
        return !filter_.empty() && names.find(filter_) == std::string::npos;
    }
    static std::string shape(int64_t rows, int64_t cols) {
        return std::to_string(rows) + "x" + std::to_string(cols);
    }
    void add(std::string kernel, std::string shapeText, double us, double bytes, double flops) {
        rows_.push_back({std::move(kernel), std::move(shapeText), us, bytes, flops});
        std::fprintf(stderr, "%-40s %-28s %10.1f us\n", rows_.back().kernel.c_str(),
                     rows_.back().shape.c_str(), us);
    }
    // A paged fp16 layer of `tokens` positions per KV head, its pages in order.
    hip::kernels::KvLayer emptyKvLayer(int64_t tokens, int32_t kvHeads, int32_t headDim) {
        hip::kernels::KvLayer layer;
        layer.pagesPerHead =
            int32_t((tokens + hip::kernels::kKvPageTokens - 1) / hip::kernels::kKvPageTokens);
        layer.capacity = int64_t(layer.pagesPerHead) * hip::kernels::kKvPageTokens;
        layer.kvHeads = kvHeads;
        layer.headDim = headDim;
        const uint64_t bytes = uint64_t(layer.capacity) * uint64_t(kvHeads) * uint64_t(headDim) * 2;
        layer.keys = arena_.allocate(bytes);
        layer.values = arena_.allocate(bytes);
        std::vector<int32_t> table(size_t(kvHeads) * size_t(layer.pagesPerHead));
        std::iota(table.begin(), table.end(), 0);
        int32_t* deviceTable = arena_.array<int32_t>(table.size());
        check(cudaMemcpy(deviceTable, table.data(), table.size() * 4, cudaMemcpyHostToDevice),
              "page table");
        layer.pageTable = deviceTable;
        return layer;
    }
    hip::kernels::KvLayer kvLayer(int64_t tokens, int32_t kvHeads, int32_t headDim) {
        hip::kernels::KvLayer layer = emptyKvLayer(tokens, kvHeads, headDim);
        const uint64_t bytes = uint64_t(layer.capacity) * uint64_t(kvHeads) * uint64_t(headDim) * 2;
        fill(layer.keys, bytes, halfPattern(bytes, 1.0f));
        fill(layer.values, bytes, halfPattern(bytes, 1.0f));
        return layer;
    }
    hip::kernels::RopeTables ropeTables(int32_t headDim, int64_t positions) {
        hip::backend::RopeParams params;
        params.dims = headDim;
        params.freqBase = 500000.0f;
        ropes_.push_back(std::make_unique<hip::backend::DeviceRopeTables>(params));
        const hip::Status status = ropes_.back()->cover(positions, pool_, nullptr);
        if (!status) throw Failure{status.message()};
        return ropes_.back()->view();
    }

    // Per last position, a mask of kHipSelectedKeys keys in chunks of 8 spread at random over
    // the candidates [sinks, last + 1 - window) (fewer where the candidates are fewer).
    hip::kernels::HipChunkLists randomMasks(const std::vector<int64_t>& lastPositions,
                                            const hip::kernels::HipWindow& window) {
        const int32_t chunk = 8, capacity = int32_t(kHipSelectedKeys / chunk);
        std::vector<int2> chunks(lastPositions.size() * size_t(capacity));
        std::vector<int32_t> counts;
        for (size_t b = 0; b < lastPositions.size(); ++b) {
            const int64_t end =
                std::max<int64_t>(window.sinkTokens, lastPositions[b] + 1 - window.windowTokens);
            const int64_t slots = (end - window.sinkTokens) / chunk;
            const int64_t count = std::min<int64_t>(slots, capacity);
            for (int64_t k = 0; k < count; ++k) { // one slot at random in each stretch
                const int64_t stretch = slots / std::max<int64_t>(count, 1);
                const int64_t slot = k * stretch + int64_t(random() % uint64_t(stretch));
                const int32_t first = int32_t(window.sinkTokens + slot * chunk);
                chunks[b * size_t(capacity) + size_t(k)] = {first, first + chunk};
            }
            counts.push_back(int32_t(count));
        }
        hip::kernels::HipChunkLists lists;
        lists.chunks = arena_.array<int2>(chunks.size());
        lists.counts = arena_.array<int32_t>(counts.size());
        lists.capacity = capacity;
        check(cudaMemcpy(lists.chunks, chunks.data(), chunks.size() * sizeof(int2),
                         cudaMemcpyHostToDevice),
              "masks");
        check(cudaMemcpy(lists.counts, counts.data(), counts.size() * 4, cudaMemcpyHostToDevice),
              "mask counts");
        return lists;
    }

    hip::backend::CudaDeviceInfo device_;
    int repeat_;
    std::string filter_;
    Arena arena_;
    hip::backend::DevicePool pool_;
    std::vector<std::unique_ptr<hip::backend::DeviceRopeTables>> ropes_;
    Limits limits_;
    std::vector<Row> rows_;
};

std::vector<int64_t> integerList(const std::string& text) {
    std::vector<int64_t> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ','))
        values.push_back(std::stoll(item));
    return values;
}

} // namespace

int benchKernels(Arguments& args) {
    if (!args.validate({"repeat", "prefill-tokens", "decode-tokens", "layer-tokens", "filter"}))
        return fail(args.error());
    const int repeat = int(args.integer("repeat", 20));
    const std::string prefillText = args.value("prefill-tokens", "4096,8192,16384,32768");
    const std::string decodeText = args.value("decode-tokens", "4096,32768,131072,524288");
    if (!args.error().empty()) return fail(args.error());
    auto device = hip::backend::queryCudaDevice(hip::backend::defaultCudaDevice());
    if (!device) return fail(device.message());
    try {
        const std::vector<int64_t> prefillTokens = integerList(prefillText);
        const std::vector<int64_t> decodeTokens = integerList(decodeText);
        const std::vector<int64_t> layerTokens =
            integerList(args.value("layer-tokens", "32768,131072,1048576"));
        Bench bench(*device, std::max(3, repeat), args.value("filter", ""));
        bench.measureLimits();
        // Llama-3.1-8B shapes: hidden 4096, FFN 14336, vocab 128256; SmolLM2: hidden 576.
        for (GgmlType type : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K})
            bench.matvec(type, {14336}, 4096);
        bench.matvec(GgmlType::Q4_K, {4096}, 4096);
        bench.matvec(GgmlType::Q4_K, {1024}, 4096);
        bench.matvec(GgmlType::Q4_K, {4096, 1024, 1024}, 4096); // q, k, v
        bench.matvec(GgmlType::Q4_K, {14336, 14336}, 4096);     // gate, up
        bench.matvec(GgmlType::Q4_K, {4096}, 14336);
        bench.matvec(GgmlType::Q4_K, {128256}, 4096);
        bench.matvec(GgmlType::Q4_1, {1536}, 576);
        bench.matvec(GgmlType::Q8_0, {49152}, 576);
        bench.dequantize(GgmlType::Q4_K, 14336, 4096);
        bench.dequantize(GgmlType::Q8_0, 14336, 4096);
        bench.gemm(1024, 14336, 4096);
        bench.gemm(1024, 4096, 4096);
        bench.elementwise(1024, 4096, 14336);
        bench.ropeAndAppend(1024, 32, 8, 128);
        bench.argmax(128256);
        for (int64_t tokens : prefillTokens)
            for (auto tile :
                 {hip::kernels::PrefillTile::WarpRows16, hip::kernels::PrefillTile::WarpRows32})
                bench.prefill(tokens, 32, 8, 128, tile);
        for (int64_t tokens : decodeTokens)
            bench.decode(tokens, 32, 8, 128);
        bench.decode(8192, 9, 3, 64);
        for (int64_t context : {131072, 1048576}) {
            bench.hipPrefill(context, 32768, 32, 8, 128);
            bench.hipDecode(context, 32, 8, 128);
        }
        // Whole layers as the engine runs them, HiP against dense at the same lengths.
        const hip::AttentionConfig hip3k = *hip::AttentionConfig::preset("hip-3k");
        bench.layers(hip3k, layerTokens, 32768, 32, 8, 128);
        bench.layers(hip3k, {131072}, 1024, 9, 3, 64); // the default model's shape
        bench.print();
    } catch (const Failure& failure) {
        return fail(failure.message);
    } catch (const std::exception& error) {
        return fail(std::string("bad option: ") + error.what());
    }
    return 0;
}

} // namespace cli
