#pragma once
// Weights in GPU memory and the matrix products over them. Weights stay in their file format.
// Products of a few rows (decode) are quantized matrix-vector kernels over the weights, reading x
// quantized to int8 once for every product of the same x, and products reading one x are batched
// into one launch (q, k and v; gate and up). Larger products (prefill) dequantize weight tiles to
// fp16/bf16 for cuBLAS.

#include "backend/backend.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/launch_queue.h"
#include "kernels/matvec.h"

#include <cublas_v2.h>

#include <cstdint>
#include <memory>

namespace hip::backend {

class CudaProducts {
public:
    CudaProducts(DevicePool& pool, LaunchQueue& queue)
        : pool_(pool), queue_(queue), xHalf_(pool, "matrix-product operands"),
          weightHalf_(pool, "dequantized weight tiles"),
          xQuantized_(pool, "quantized activations") {}
    CudaProducts(const CudaProducts&) = delete;
    CudaProducts& operator=(const CudaProducts&) = delete;
    ~CudaProducts();
    Status initialize();

    Result<std::unique_ptr<Weight>> upload(const WeightView& weight);

    // out = x * W^T (+ bias). Matrix-vector products may wait to join the next ones (flush()
    // launches them); anything else that touches their x or outputs must flush first.
    void matmul(Act x, const Weight& w, const Weight* bias, Act out);
    // Launches the pending matrix-vector products.
    void flush();

private:
    bool joins(Act x, const WeightView& w, Act out) const;
    void gemm(Act x, const WeightView& w, Act out);
    Result<const uint8_t*> quantizedInput(Act x);

    DevicePool& pool_;
    LaunchQueue& queue_;
    cublasHandle_t cublas_ = nullptr;

    // Matrix-vector products of one x and weight format waiting to run as one launch. No output
    // overlaps another, nor x unless the product is alone (matmul launches it at once).
    struct Pending {
        Act x;
        quant::GgmlType type = quant::GgmlType::F32;
        int64_t cols = 0;
        const uint8_t* quantized = nullptr; // x quantized (block formats)
        int count = 0;
        // Weights and biases; each y is set per row of x from outs at the launch.
        kernels::MatvecMatrix matrices[kernels::kMatvecMaxMatrices];
        Act outs[kernels::kMatvecMaxMatrices];
    } pending_;

    Workspace xHalf_, weightHalf_;
    // The int8 copy of x the matrix-vector kernels read, and the activation it holds: valid while
    // nothing but these products ran since it was queued (the queue's events say so).
    Workspace xQuantized_;
    Act quantizedX_;
    uint64_t quantizedAt_ = 0;
};

} // namespace hip::backend
