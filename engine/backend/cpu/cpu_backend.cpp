#include "backend/cpu/cpu_backend.h"

#include "attention/dense_attention.h"
#include "attention/hip_attention.h"
#include "attention/rope.h"
#include "common/thread_pool.h"
#include "kv/paged_kv_store.h"
#include "quant/dequantize.h"
#include "quant/dot.h"
#include "quant/dot_q8.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <new>
#include <thread>

namespace hip::backend {
namespace {

// Output features dequantized together: large enough for an efficient GEMM, small enough to
// stay in cache.
constexpr int64_t kWeightTileRows = 64;
// Below this many tokens a product is a set of dot products; above it, a GEMM per weight tile.
constexpr int64_t kGemmMinRows = 4;

// Whether decode products with `view` can take int8 activations (quant/dot_q8.h), when asked. Not
// the vocabulary
// projection: its rounding error, about 1% of a logit (0.2-0.25 on the default model's logits of
// magnitude 10-20), changes greedy answers (test_engine's factual question), while that of the
// layer matrices is averaged out by what follows them.
bool takesIntegerDot(const WeightView& view) {
    const bool producesLogits = view.name == "output.weight" || view.name == "token_embd.weight";
    return !producesLogits && view.cols % quant::kQ8Block == 0 && quant::hasQ8Dot(view.type);
}

class CpuWeight final : public Weight {
public:
    CpuWeight(const WeightView& view, bool integerDot) : view_(view), integerDot_(integerDot) {}
    const WeightView& view() const override { return view_; }
    bool integerDot() const { return integerDot_; }
    // The data stays in the mapped file; it counts as resident once touched.
    uint64_t residentBytes() const override {
        return quant::rowBytes(view_.type, view_.cols).value_or(0) * uint64_t(view_.rows);
    }

private:
    WeightView view_;
    bool integerDot_;
};

class CpuBuffer final : public Buffer {
public:
    explicit CpuBuffer(std::unique_ptr<float[]> data, int64_t floats)
        : data_(std::move(data)), floats_(floats) {}
    float* data() override { return data_.get(); }
    int64_t floats() const override { return floats_; }

private:
    std::unique_ptr<float[]> data_;
    int64_t floats_;
};

class CpuKvCache final : public KvCache {
public:
    explicit CpuKvCache(const KvCacheShape& shape)
        : store(shape.layers, shape.kvHeads, shape.headDim, shape.capacity),
          hip(size_t(shape.layers)) {}
    int64_t tokens() const override { return store.tokens(); }
    int64_t capacity() const override { return store.capacity(); }
    void truncate(int64_t tokens) override {
        store.truncate(tokens);
        // Masks were estimated for the longer context: the next step refreshes every stage.
        for (auto& state : hip)
            state = {};
    }
    uint64_t residentBytes() const override { return store.residentBytes(); }
    std::vector<std::vector<KeyRange>> lastSelections() const override {
        std::vector<std::vector<KeyRange>> selections(hip.size());
        for (size_t layer = 0; layer < hip.size(); ++layer) {
            const attention::BlockMask& mask = hip[layer].mask;
            if (!hip[layer].valid) continue;
            std::vector<KeyRange> all;
            for (const auto& head : mask.heads)
                all.insert(all.end(), head.begin(), head.end());
            selections[layer] = attention::mergeRanges(std::move(all), store.tokens() + 1);
        }
        return selections;
    }

    kv::PagedKvStore store;
    std::vector<attention::HipLayerState> hip; // per layer
};

const float* rowPointer(const Weight& w, int64_t row, std::vector<float>& scratch) {
    const WeightView& v = w.view();
    const uint64_t bytes = quant::rowBytes(v.type, v.cols).value_or(0);
    const auto* src = static_cast<const uint8_t*>(v.data) + uint64_t(row) * bytes;
    if (v.type == quant::GgmlType::F32) return reinterpret_cast<const float*>(src);
    scratch.resize(size_t(v.cols));
    quant::dequantizeRow(v.type, src, scratch.data(), v.cols);
    return scratch.data();
}

class CpuBackend final : public Backend {
public:
    CpuBackend(int threads, bool int8Activations)
        : pool_(threads), scratch_(size_t(pool_.threads())), int8Activations_(int8Activations) {
        // Our own threads split the work; OpenBLAS must not spawn more inside each task.
        openblas_set_num_threads(1);
    }

    std::string name() const override {
        return "CPU (" + std::to_string(pool_.threads()) + " threads)";
    }

    Result<std::unique_ptr<Weight>> uploadWeight(const WeightView& weight) override {
        if (!quant::traits(weight.type).dequantizable)
            return makeError(ErrorCode::Unsupported,
                             "tensor '" + weight.name + "' has type " +
                                 std::string(quant::typeName(weight.type)) +
                                 ", which the CPU backend cannot compute with");
        return std::unique_ptr<Weight>(
            std::make_unique<CpuWeight>(weight, int8Activations_ && takesIntegerDot(weight)));
    }

    Result<std::unique_ptr<Buffer>> allocate(int64_t floats) override {
        std::unique_ptr<float[]> data(new (std::nothrow) float[size_t(floats)]);
        if (!data)
            return makeError(ErrorCode::OutOfMemory,
                             "out of host memory allocating " +
                                 std::to_string((uint64_t(floats) * 4) >> 20) + " MiB of scratch");
        return std::unique_ptr<Buffer>(std::make_unique<CpuBuffer>(std::move(data), floats));
    }

    Result<std::unique_ptr<KvCache>> createKvCache(const KvCacheShape& shape) override {
        return std::unique_ptr<KvCache>(std::make_unique<CpuKvCache>(shape));
    }

    uint64_t kvBytesPerToken(const KvCacheShape& shape) const override {
        return kv::PagedKvStore::bytesPerToken(shape.layers, shape.kvHeads, shape.headDim);
    }

    void embed(const Weight& table, const std::vector<int32_t>& tokens, Act out) override {
        pool_.parallelFor(int64_t(tokens.size()), [&](int64_t t, int thread) {
            const float* row = rowPointer(table, tokens[size_t(t)], scratch_[size_t(thread)]);
            std::memcpy(out.row(t), row, sizeof(float) * size_t(out.cols));
        });
    }

    void rmsNorm(Act x, const Weight& gamma, float eps, Act out) override {
        const auto* g = static_cast<const float*>(gamma.view().data);
        pool_.parallelFor(x.rows, [&](int64_t r, int) {
            const float* in = x.row(r);
            double sumSquares = 0.0;
            for (int64_t i = 0; i < x.cols; ++i)
                sumSquares += double(in[i]) * in[i];
            const float scale = float(1.0 / std::sqrt(sumSquares / double(x.cols) + eps));
            float* o = out.row(r);
            for (int64_t i = 0; i < x.cols; ++i)
                o[i] = in[i] * scale * g[i];
        });
    }

    void matmul(Act x, const Weight& w, const Weight* bias, Act out) override {
        const WeightView& v = w.view();
        const int64_t tiles = (v.rows + kWeightTileRows - 1) / kWeightTileRows;
        // Decode products in integers where the weight takes them: x quantized once here.
        const bool integerDot =
            x.rows < kGemmMinRows && static_cast<const CpuWeight&>(w).integerDot();
        if (integerDot) {
            q8Rows_.resize(size_t(x.rows));
            for (int64_t r = 0; r < x.rows; ++r)
                quant::quantizeActivations(x.row(r), v.cols, q8Rows_[size_t(r)]);
        }
        pool_.parallelFor(tiles, [&](int64_t tile, int thread) {
            const int64_t firstRow = tile * kWeightTileRows;
            const int64_t tileRows = std::min(kWeightTileRows, v.rows - firstRow);
            std::vector<float>& scratch = scratch_[size_t(thread)];
            if (x.rows < kGemmMinRows) {
                // Few rows (decoding): each weight row meets x in its own format, never written
                // out dequantized.
                const uint64_t bytes = quant::rowBytes(v.type, v.cols).value_or(0);
                const auto* src = static_cast<const uint8_t*>(v.data);
                for (int64_t o = 0; o < tileRows; ++o) {
                    const uint8_t* wr = src + uint64_t(firstRow + o) * bytes;
                    for (int64_t r = 0; r < x.rows; ++r)
                        out.row(r)[firstRow + o] =
                            integerDot ? quant::dotRowQ8(v.type, wr, q8Rows_[size_t(r)], v.cols)
                                       : quant::dotRow(v.type, wr, x.row(r), v.cols);
                }
            } else {
                const float* tileData;
                if (v.type == quant::GgmlType::F32) {
                    tileData = static_cast<const float*>(v.data) + firstRow * v.cols;
                } else {
                    scratch.resize(size_t(tileRows * v.cols));
                    const uint64_t bytes = quant::rowBytes(v.type, v.cols).value_or(0);
                    const auto* src = static_cast<const uint8_t*>(v.data);
                    for (int64_t o = 0; o < tileRows; ++o)
                        quant::dequantizeRow(v.type, src + uint64_t(firstRow + o) * bytes,
                                             scratch.data() + o * v.cols, v.cols);
                    tileData = scratch.data();
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(x.rows), int(tileRows),
                            int(v.cols), 1.0f, x.data, int(x.stride), tileData, int(v.cols), 0.0f,
                            out.data + firstRow, int(out.stride));
            }
            if (bias) {
                const auto* b = static_cast<const float*>(bias->view().data) + firstRow;
                for (int64_t r = 0; r < x.rows; ++r)
                    for (int64_t o = 0; o < tileRows; ++o)
                        out.row(r)[firstRow + o] += b[o];
            }
        });
    }

    void addInPlace(Act x, Act y) override {
        for (int64_t r = 0; r < x.rows; ++r) {
            float* a = x.row(r);
            const float* b = y.row(r);
            for (int64_t i = 0; i < x.cols; ++i)
                a[i] += b[i];
        }
    }

    void swiglu(Act gate, Act up, Act out) override {
        pool_.parallelFor(gate.rows, [&](int64_t r, int) {
            const float* g = gate.row(r);
            const float* u = up.row(r);
            float* o = out.row(r);
            for (int64_t i = 0; i < gate.cols; ++i)
                o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
        });
    }

    Status attention(KvCache& cache, int32_t layer, int64_t start, Act q, Act k, Act v,
                     const AttentionParams& params, Act out) override {
        auto& kvCache = static_cast<CpuKvCache&>(cache);
        auto& store = kvCache.store;
        const int64_t end = start + q.rows;
        HIP_TRY(store.reserve(end));
        const size_t rowBytes = sizeof(float) * size_t(store.rowFloats());
        for (int64_t r = 0; r < q.rows; ++r) {
            std::memcpy(store.keys(layer, start + r), k.row(r), rowBytes);
            std::memcpy(store.values(layer, start + r), v.row(r), rowBytes);
        }
        if (layer == store.layers() - 1) store.setTokens(end);

        attention::Rope& rope = ropeFor(params.rope);
        attention::HipLayerState& hipState = kvCache.hip[size_t(layer)];
        float* mass = nullptr;
        if (q.rows == 1 && cache.attentionMass) {
            if (cache.attentionMass->size() < size_t(end)) cache.attentionMass->resize(size_t(end));
            mass = cache.attentionMass->data();
        }
        if (params.runsDense(layer, end, q.rows == 1)) {
            rope.prepare(end);
            attention::denseAttention(store, layer, start, q, params, rope, out, pool_);
            if (mass)
                attention::accumulateExactMass(store, layer, start, q, params, rope, 0, mass,
                                               pool_);
            hipState = {};
        } else {
            rope.prepare(attention::hipRopePositionsNeeded(*params.config, layer, end));
            attention::hipAttention(store, layer, start, q, params, *params.config, rope, out,
                                    pool_, hipState, mass);
        }
        if (cache.exactMass) {
            if (cache.exactMass->size() < size_t(end)) cache.exactMass->resize(size_t(end));
            const int64_t farDistance =
                attention::exactMassFarDistance(params, layer, end, q.rows == 1);
            rope.prepare(std::max(end, farDistance + 1));
            attention::accumulateExactMass(store, layer, start, q, params, rope, farDistance,
                                           cache.exactMass->data(), pool_);
        }
        return Status::ok();
    }

    void copyToHost(Act x, float* dst) override {
        for (int64_t r = 0; r < x.rows; ++r)
            std::memcpy(dst + r * x.cols, x.row(r), sizeof(float) * size_t(x.cols));
    }

private:
    // One angle table per distinct rope configuration (models use one, tests may use several).
    attention::Rope& ropeFor(const RopeParams& params) {
        for (auto& rope : ropes_) {
            if (rope->params() == params) return *rope;
        }
        ropes_.push_back(std::make_unique<attention::Rope>(params));
        return *ropes_.back();
    }

    ThreadPool pool_;
    std::vector<std::vector<float>> scratch_; // per thread
    bool int8Activations_;
    std::vector<quant::Q8Activations> q8Rows_; // a decode product's x, quantized
    std::vector<std::unique_ptr<attention::Rope>> ropes_;
};

} // namespace

std::unique_ptr<Backend> createCpuBackend(int threads, bool int8Activations) {
    if (threads <= 0) threads = std::max(1, int(std::thread::hardware_concurrency()));
    return std::make_unique<CpuBackend>(threads, int8Activations);
}

} // namespace hip::backend
