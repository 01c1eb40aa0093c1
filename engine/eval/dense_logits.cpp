#include "eval/dense_logits.h"

#include <cblas.h>

#include <cstring>

namespace hip::eval {

RotatedKeys::RotatedKeys(const kv::PagedKvStore& store, int32_t layer, int64_t tokens,
                         const attention::Rope& rope, ThreadPool& pool)
    : tokens_(tokens), headDim_(store.headDim()),
      values_(size_t(store.kvHeads()) * size_t(tokens) * size_t(store.headDim())) {
    const int32_t kvHeads = store.kvHeads();
    pool.parallelFor(tokens, [&](int64_t position, int) {
        const float* source = store.keys(layer, position);
        for (int32_t h = 0; h < kvHeads; ++h) {
            float* key = values_.data() +
                         (size_t(h) * size_t(tokens_) + size_t(position)) * size_t(headDim_);
            std::memcpy(key, source + h * headDim_, sizeof(float) * size_t(headDim_));
            rope.rotate(key, position);
        }
    });
}

void denseLogits(backend::Act queries, int64_t firstPosition, int32_t head, const RotatedKeys& keys,
                 const backend::AttentionParams& params, const attention::Rope& rope,
                 int64_t keyCount, std::vector<float>& logits, std::vector<float>& scratch) {
    const int32_t d = params.headDim;
    const int32_t kvHead = head / (params.heads / params.kvHeads);
    scratch.resize(size_t(queries.rows) * size_t(d));
    for (int64_t r = 0; r < queries.rows; ++r) {
        float* q = scratch.data() + r * d;
        std::memcpy(q, queries.row(r) + int64_t(head) * d, sizeof(float) * size_t(d));
        rope.rotate(q, firstPosition + r);
    }
    logits.resize(size_t(queries.rows) * size_t(keyCount));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(queries.rows), int(keyCount), d,
                params.scale, scratch.data(), d, keys.head(kvHead), d, 0.0f, logits.data(),
                int(keyCount));
}

} // namespace hip::eval
