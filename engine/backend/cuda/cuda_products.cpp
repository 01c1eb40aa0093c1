#include "backend/cuda/cuda_products.h"

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/step_words.h"
#include "kernels/convert.h"
#include "kernels/dequantize.h"
#include "kernels/quantize_activations.h"
#include "kernels/residual_add.h"

#include <algorithm>
#include <array>

namespace hip::backend {
namespace {

using quant::GgmlType;

// Up to this many rows a product runs as matrix-vector products over the quantized weights
// (one per row); above it, dequantized tiles go through cuBLAS.
constexpr int64_t kMatvecMaxRows = 4;
// Largest dequantized weight tile handed to one GEMM.
constexpr uint64_t kDequantTileBytes = 256ull << 20;

class CudaWeight final : public Weight {
public:
    CudaWeight(const WeightView& view, DeviceAllocation memory, uint64_t rowBytes)
        : view_(view), memory_(std::move(memory)), rowBytes_(rowBytes) {
        view_.data = memory_.data();
    }
    const WeightView& view() const override { return view_; }
    uint64_t residentBytes() const override { return memory_.bytes(); }
    uint64_t rowBytes() const { return rowBytes_; }

private:
    WeightView view_;
    DeviceAllocation memory_;
    uint64_t rowBytes_;
};

uint64_t rowBytesOf(const Weight& w) {
    return static_cast<const CudaWeight&>(w).rowBytes();
}

} // namespace

CudaProducts::~CudaProducts() {
    if (cublas_) cublasDestroy(cublas_);
}

Status CudaProducts::initialize() {
    HIP_TRY(cublasStatus(cublasCreate(&cublas_), "cublasCreate"));
    HIP_TRY(cublasStatus(cublasSetStream(cublas_, queue_.stream()), "cublasSetStream"));
    return Status::ok();
}

Result<std::unique_ptr<Weight>> CudaProducts::upload(const WeightView& weight) {
    // The GPU handles exactly the formats the CPU reference can dequantize.
    if (!quant::traits(weight.type).dequantizable)
        return makeError(ErrorCode::Unsupported,
                         "tensor '" + weight.name + "' has type " +
                             std::string(quant::typeName(weight.type)) +
                             ", which the CUDA backend cannot compute with");
    if (weight.rows > 1 && weight.cols % 32 != 0)
        return makeError(ErrorCode::Unsupported,
                         "tensor '" + weight.name + "' has rows of " + std::to_string(weight.cols) +
                             " values; the CUDA kernels need a multiple of 32");
    const auto rowBytes = quant::rowBytes(weight.type, weight.cols);
    if (!rowBytes)
        return makeError(ErrorCode::InvalidFile, "tensor '" + weight.name + "' has a bad shape");
    const uint64_t bytes = *rowBytes * uint64_t(weight.rows);
    auto memory = pool_.allocate(bytes, DeviceUse::Weights, "tensor '" + weight.name + "'");
    HIP_TRY(memory);
    const cudaStream_t stream = queue_.stream();
    HIP_CUDA_TRY(
        cudaMemcpyAsync(memory->data(), weight.data, bytes, cudaMemcpyHostToDevice, stream),
        "uploading tensor '" + weight.name + "'");
    HIP_CUDA_TRY(cudaStreamSynchronize(stream), "uploading tensor '" + weight.name + "'");
    return std::unique_ptr<Weight>(
        std::make_unique<CudaWeight>(weight, std::move(*memory), *rowBytes));
}

void CudaProducts::matmul(Act x, const Weight& w, const Weight* bias, Act out) {
    const WeightView& v = w.view();
    const float* b = bias ? static_cast<const float*>(bias->view().data) : nullptr;
    if (x.rows > kMatvecMaxRows || x.stride % 4 != 0) {
        flush();
        queue_.identify({word(StepOp::Matmul), word(x), word(v.data), word(b), word(out)});
        gemm(x, v, out);
        if (b)
            queue_.submit([=](cudaStream_t s) {
                return cudaStatus(kernels::addBias(rows(out), b, s), "the bias kernel");
            });
        return;
    }
    if (!joins(x, v, out)) flush();
    queue_.identify({word(StepOp::Matmul), word(x), word(v.data), word(b), word(out)});
    const uint8_t* quantized = nullptr;
    if (kernels::matvecReadsQuantizedX(v.type)) {
        auto held = quantizedInput(x);
        if (!held) return queue_.fail(held.status());
        quantized = *held;
    }
    Pending& p = pending_;
    if (p.count == 0) {
        p.x = x;
        p.type = v.type;
        p.cols = v.cols;
        p.quantized = quantized;
    }
    p.matrices[p.count] = {v.data, int64_t(rowBytesOf(w)), v.rows, b, nullptr};
    p.outs[p.count] = out;
    ++p.count;
    // The products write only `out`: x stays held quantized for the next product.
    if (overlaps(out, quantizedX_)) quantizedX_ = {};
    // A product writing over its own x runs alone: a later product of x reads what it wrote.
    if (overlaps(out, x)) flush();
}

// Whether a product of x with `w` into `out` can join the pending ones: same x, format and
// columns, room left, and an output that overlaps neither x nor theirs (one launch reads x and
// writes all outputs at once).
bool CudaProducts::joins(Act x, const WeightView& w, Act out) const {
    const Pending& p = pending_;
    if (p.count == 0 || p.count == kernels::kMatvecMaxMatrices || !sameAct(x, p.x) ||
        w.type != p.type || w.cols != p.cols || overlaps(out, x))
        return false;
    for (int i = 0; i < p.count; ++i)
        if (overlaps(out, p.outs[i])) return false;
    return true;
}

void CudaProducts::flush() {
    Pending& p = pending_;
    if (p.count == 0) return;
    const int count = p.count;
    p.count = 0;
    const bool held = quantizedAt_ == queue_.events();
    queue_.identify({word(StepOp::Matvecs), word(int64_t(count))});
    const quant::GgmlType type = p.type;
    const int64_t cols = p.cols, quantizedStride = kernels::quantizedRowBytes(cols);
    for (int64_t r = 0; r < p.x.rows; ++r) {
        std::array<kernels::MatvecMatrix, kernels::kMatvecMaxMatrices> matrices{};
        for (int i = 0; i < count; ++i) {
            matrices[size_t(i)] = p.matrices[i];
            matrices[size_t(i)].y = p.outs[i].row(r);
        }
        const float* in = p.x.row(r);
        const void* inQuantized = p.quantized ? p.quantized + r * quantizedStride : nullptr;
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(
                kernels::matvec(matrices.data(), count, type, cols, in, inQuantized, s),
                "the matrix-vector kernel");
        });
    }
    if (held) quantizedAt_ = queue_.events(); // these launches wrote only their outputs
}

// x quantized for the matrix-vector kernels over block formats. Consecutive products often read
// the same x (q, k and v read the normed x; so do gate and up): only the first queues the
// quantization.
Result<const uint8_t*> CudaProducts::quantizedInput(Act x) {
    auto buffer =
        xQuantized_.ensure(uint64_t(x.rows) * uint64_t(kernels::quantizedRowBytes(x.cols)));
    HIP_TRY(buffer);
    void* quantized = *buffer;
    if (!sameAct(x, quantizedX_) || quantizedAt_ != queue_.events()) {
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(kernels::quantizeActivations(rows(x), quantized, s),
                              "the activation quantization kernel");
        });
        // Held only if the launch was queued, not skipped after an error.
        quantizedX_ = queue_.failed() ? Act{} : x;
        quantizedAt_ = queue_.events();
    }
    return static_cast<const uint8_t*>(quantized);
}

// out = x * W^T through cuBLAS. cuBLAS is column-major: out^T (W.rows x x.rows) = W * x^T, with W
// read as its transpose (row-major W.rows x cols is column-major cols x W.rows).
void CudaProducts::gemm(Act x, const WeightView& w, Act out) {
    cublasHandle_t handle = cublas_;
    const int inputs = int(w.cols), tokens = int(x.rows), outStride = int(out.stride);
    float* result = out.data;
    const auto product = [=](const void* weight, cudaDataType type, const void* input,
                             int64_t inputStride, int64_t firstRow, int64_t rowCount) {
        return [=](cudaStream_t) {
            const float one = 1.0f, zero = 0.0f;
            return cublasStatus(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(rowCount),
                                             tokens, inputs, &one, weight, type, inputs, input,
                                             type, int(inputStride), &zero, result + firstRow,
                                             CUDA_R_32F, outStride, CUBLAS_COMPUTE_32F,
                                             CUBLAS_GEMM_DEFAULT),
                                "cublasGemmEx");
        };
    };
    if (w.type == GgmlType::F32) {
        queue_.submit(product(w.data, CUDA_R_32F, x.data, x.stride, 0, w.rows));
        return;
    }
    // F16 and BF16 weights are used in place; quantized ones are dequantized to fp16 in tiles.
    const kernels::Half16 operand =
        w.type == GgmlType::BF16 ? kernels::Half16::BF16 : kernels::Half16::F16;
    const cudaDataType type = operand == kernels::Half16::BF16 ? CUDA_R_16BF : CUDA_R_16F;
    auto input = xHalf_.ensure(uint64_t(x.rows) * uint64_t(w.cols) * 2u);
    if (!input) return queue_.fail(input.status());
    void* xh = *input;
    queue_.submit([=](cudaStream_t s) {
        return cudaStatus(kernels::convertRows(rows(x), xh, operand, s), "the conversion kernel");
    });
    if (w.type == GgmlType::F16 || w.type == GgmlType::BF16) {
        queue_.submit(product(w.data, type, xh, w.cols, 0, w.rows));
        return;
    }
    int64_t tileRows = std::max<int64_t>(1, int64_t(kDequantTileBytes / (uint64_t(w.cols) * 2u)));
    tileRows = std::min(tileRows, w.rows);
    auto tile = weightHalf_.ensure(uint64_t(tileRows) * uint64_t(w.cols) * 2u);
    if (!tile) return queue_.fail(tile.status());
    void* wh = *tile;
    const int64_t rowBytes = int64_t(*quant::rowBytes(w.type, w.cols)), cols = w.cols;
    const void* data = w.data;
    const GgmlType format = w.type;
    for (int64_t first = 0; first < w.rows; first += tileRows) {
        const int64_t count = std::min(tileRows, w.rows - first);
        queue_.submit([=](cudaStream_t s) {
            return cudaStatus(
                kernels::dequantizeRows(data, format, rowBytes, first, count, cols, wh, operand, s),
                "the dequantization kernel");
        });
        queue_.submit(product(wh, type, xh, w.cols, first, count));
    }
}

} // namespace hip::backend
