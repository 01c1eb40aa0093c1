#include "kernels/matvec.h"

#include "kernels/quant_blocks.cuh"
#include "kernels/quantize_activations.h"

#include <type_traits>

// Decoding reads every weight once per token, so this kernel must stream the weights at memory
// speed with few instructions per weight.
//
// x comes quantized: a separate kernel (quantize_activations.h) turns it into int8 per 32 values
// with an fp32 scale once per step, and every product reading the same x reads that copy, so the
// products start streaming weights at once (no per-block preparation, no barrier). Block-format
// quants stay unsigned bytes packed four to a register (nibbles spread to bytes by a shift and a
// mask, fifth and sixth bits or'ed in), and each group of four meets four x values in one dp4a:
// exact integer products and sums. The scales then apply in fp32 once per piece and sub-block;
// an offset (a minimum, or a bias such as Q4_0's 8) multiplies the sum of the quantized x over
// the same values, which the quantization kernel stores (per 16 and per 32 values) or a thread
// forms with a dp4a against -32s (Q6_K: the sum its dp4a chain starts from, formed once for all
// the rows). Float weights multiply fp32 x.
//
// One launch takes up to kMatvecMaxMatrices matrices of one format that read the same x (q, k
// and v; gate and up): a decode step of a small model is bound by launches, and the k and v
// products of a large one are too small alone to fill the GPU. Their rows form one sequence of
// row groups, a matrix's last group padded (clamped reads, no stores), so every warp works for
// one matrix and the loops below do not change.
//
// A warp takes kRowsPerWarp rows; each thread takes "pieces" of every row (the same columns in
// each): it issues the loads of kPiecesPerStep pieces of all the rows before using any, reads
// each piece's x once for all the rows, and moves on by 32 pieces. Pieces are shaped so that
// the 32 threads of a load instruction read nearly contiguous bytes (few L1 wavefronts per
// instruction):
//   - F32, F16, BF16: 16 bytes.
//   - Q4_K, Q5_K: 16 bytes of quants (16 values of each of two sub-blocks) and the super-block's
//     scales, in 16-byte loads; eight threads per super-block.
//   - Q8_0: a quarter block (eight quants), four threads per block.
//   - Q6_K (a loop of its own, matvecQ6K, same rows and steps): eight values of each of the four
//     chunks of a half super-block (8 bytes of each ql run and of qh, as three aligned words each,
//     and the four chunks' scales), eight threads per super-block. A thread's pieces lie 840 bytes
//     apart, so their alignment is fixed and their addresses advance by a constant.
//   - Q4_0, Q4_1, Q5_0, Q5_1: a block.
// Q8_0, Q4_0, Q5_0 and Q6_K blocks are only 2-byte aligned (34, 18, 22 and 210 bytes): their
// words are read as aligned words and joined by funnel shifts. The aligned words stay inside the
// block, except that a Q6_K super-block's first word may start 2 bytes before it (still inside
// the weight: an allocation starts aligned).

namespace hip::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRowsPerWarp = 2;
constexpr int kPiecesPerStep = 2;

// x as the pieces read it: fp32 values (float weights), or a quantized row.
struct Input {
    const float* values;
    const int8_t* q;      // quantized values
    const float4* chunks; // per chunk {d, d * sum(q[0..15]), d * sum(q[16..31]), d * sum(q)}
};

constexpr uint32_t kLowNibbles = 0x0F0F0F0Fu;
constexpr uint32_t kMinus32s = 0xE0E0E0E0u; // four int8 -32s, for dp4a

// The low nibbles of `low` with the high nibbles of `high`: one bit select (lop3), written out so
// that the compiler does not fold the masks of `high` into it.
__device__ __forceinline__ uint32_t lowNibblesOver(uint32_t low, uint32_t high) {
    uint32_t out;
    asm("lop3.b32 %0, %1, %2, %3, 0xE4;" : "=r"(out) : "r"(low), "r"(high), "r"(kLowNibbles));
    return out;
}

// A 2-byte-aligned address as the aligned word at or below it and the right shift (0 or 16 bits)
// that a funnel shift of two such words needs to give the four bytes from the address.
__device__ __forceinline__ const uint32_t* alignedWords(const uint8_t* p) {
    // Pointer arithmetic, not an integer mask, so the compiler still sees a global address.
    return reinterpret_cast<const uint32_t*>(p - (reinterpret_cast<uintptr_t>(p) & 3u));
}
__device__ __forceinline__ uint32_t shiftOf(const uint8_t* p) {
    return uint32_t(reinterpret_cast<uintptr_t>(p) & 2u) * 8u;
}
__device__ __forceinline__ uint32_t joined(uint32_t low, uint32_t high, uint32_t shift) {
    return __funnelshift_r(low, high, shift);
}

// The d of a quantized chunk (one 4-byte load, not the whole float4).
__device__ __forceinline__ float chunkScale(const Input& x, unsigned c) {
    return reinterpret_cast<const float*>(x.chunks + c)[0];
}

// sum of four products of bytes (quants below 128 read as signed bytes, like x), plus c.
__device__ __forceinline__ int dot4(uint32_t q, uint32_t x, int c) {
    return __dp4a(int(q), int(x), c);
}

// The x of a whole 32-value chunk: values 0..15 in lo, 16..31 in hi.
struct ChunkX {
    uint4 lo, hi;
    float d, sum; // sum: d * sum(q), for the offsets
};
__device__ __forceinline__ ChunkX loadChunk(const Input& x, unsigned c) {
    const uint4* q = reinterpret_cast<const uint4*>(x.q) + 2 * c;
    const float4 chunk = x.chunks[c];
    return {q[0], q[1], chunk.x, chunk.w};
}

// sum over a chunk of unsigned quants: qs word i holds values 4i..4i+3 (low nibbles) and
// 16+4i..16+4i+3 (high nibbles); `high` adds the fifth bits, already in place (bit 4 of a byte).
__device__ __forceinline__ int nibbleChunkDot(const uint32_t (&qs)[4], const uint32_t (&high)[2][4],
                                              const ChunkX& x) {
    const uint32_t lo[4] = {x.lo.x, x.lo.y, x.lo.z, x.lo.w};
    const uint32_t hi[4] = {x.hi.x, x.hi.y, x.hi.z, x.hi.w};
    int sum = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        sum = dot4((qs[i] & kLowNibbles) | high[0][i], lo[i], sum);
        sum = dot4(((qs[i] >> 4) & kLowNibbles) | high[1][i], hi[i], sum);
    }
    return sum;
}

template <class Fmt> struct Piece;

// ---- Float weights: 16 bytes per piece, x in fp32.

template <> struct Piece<Format<GgmlType::F32>> {
    static constexpr int kValues = 4;
    using Raw = float4;
    using X = float4;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        raw = reinterpret_cast<const float4*>(row)[p];
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        return reinterpret_cast<const float4*>(x.values)[p];
    }
    __device__ static float add(const Raw& w, const X& x, float acc) {
        return fmaf(w.w, x.w, fmaf(w.z, x.z, fmaf(w.y, x.y, fmaf(w.x, x.x, acc))));
    }
};

template <class T> struct HalfPiece {
    static constexpr int kValues = 8;
    using Raw = uint4;
    struct X {
        float4 a, b;
    };
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        raw = reinterpret_cast<const uint4*>(row)[p];
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        const float4* v = reinterpret_cast<const float4*>(x.values) + 2 * p;
        return {v[0], v[1]};
    }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        float w[8];
        unpack8<T>(raw, w);
        const float v[8] = {x.a.x, x.a.y, x.a.z, x.a.w, x.b.x, x.b.y, x.b.z, x.b.w};
#pragma unroll
        for (int i = 0; i < 8; ++i)
            acc = fmaf(w[i], v[i], acc);
        return acc;
    }
};
template <> struct Piece<Format<GgmlType::F16>> : HalfPiece<__half> {};
template <> struct Piece<Format<GgmlType::BF16>> : HalfPiece<__nv_bfloat16> {};

// ---- 32-value blocks.

// d, qs[32] (int8): 34 bytes. A piece is a quarter block (eight quants at 2-byte alignment, so
// two aligned words plus, when unaligned, the two bytes after them). Quants are signed already.
template <> struct Piece<Format<GgmlType::Q8_0>> {
    static constexpr int kValues = 8;
    struct Raw {
        uint32_t w0, w1, tail, d, shift;
    };
    struct X {
        uint2 q;
        float d;
    };
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint8_t* b = row + (p / 4) * 34;
        const uint8_t* quants = b + 2 + 8 * (p % 4);
        const uint32_t* w = alignedWords(quants);
        raw.shift = shiftOf(quants);
        raw.w0 = w[0];
        raw.w1 = w[1];
        raw.tail = raw.shift ? load16(reinterpret_cast<const uint8_t*>(w + 2)) : 0u;
        raw.d = load16(b);
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        return {reinterpret_cast<const uint2*>(x.q)[p], chunkScale(x, p / 4)};
    }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        const int sum = dot4(joined(raw.w1, raw.tail, raw.shift), x.q.y,
                             dot4(joined(raw.w0, raw.w1, raw.shift), x.q.x, 0));
        return fmaf(lowHalf(raw.d) * x.d, float(sum), acc);
    }
};

// d, qs[16] with a +8 bias: 18 bytes at 2-byte alignment, one block per piece.
template <> struct Piece<Format<GgmlType::Q4_0>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint32_t w[4];
        uint32_t tail, d, shift;
    };
    using X = ChunkX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint8_t* b = row + p * 18;
        const uint32_t* w = alignedWords(b + 2);
        raw.shift = shiftOf(b + 2);
#pragma unroll
        for (int i = 0; i < 4; ++i)
            raw.w[i] = w[i];
        raw.tail = raw.shift ? load16(reinterpret_cast<const uint8_t*>(w + 4)) : 0u;
        raw.d = load16(b);
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        return loadChunk(x, p);
    }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        uint32_t qs[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            qs[i] = joined(raw.w[i], i < 3 ? raw.w[i + 1] : raw.tail, raw.shift);
        const uint32_t none[2][4] = {};
        return fmaf(lowHalf(raw.d), fmaf(x.d, float(nibbleChunkDot(qs, none, x)), -8.0f * x.sum),
                    acc);
    }
};

// d, m, qs[16]: 20 bytes at 4-byte alignment, one block per piece; y = q * d + m.
template <> struct Piece<Format<GgmlType::Q4_1>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint32_t dm, qs[4];
    };
    using X = ChunkX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint32_t* b = reinterpret_cast<const uint32_t*>(row + p * 20);
        raw.dm = b[0];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            raw.qs[i] = b[1 + i];
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        return loadChunk(x, p);
    }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        const uint32_t none[2][4] = {};
        return fmaf(lowHalf(raw.dm) * x.d, float(nibbleChunkDot(raw.qs, none, x)),
                    fmaf(highHalf(raw.dm), x.sum, acc));
    }
};

// The fifth bits of a 5-bit block (bit j of qh for value j) in place for nibbleChunkDot.
__device__ __forceinline__ void fifthBits(uint32_t qh, uint32_t (&high)[2][4]) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        high[0][i] = spreadBits((qh >> (4 * i)) & 0xFu);
        high[1][i] = spreadBits((qh >> (16 + 4 * i)) & 0xFu);
    }
}

// d, qh[4], qs[16] with a +16 bias: 22 bytes at 2-byte alignment, one block per piece.
template <> struct Piece<Format<GgmlType::Q5_0>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint32_t w[5];
        uint32_t tail, d, shift;
    };
    using X = ChunkX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint8_t* b = row + p * 22;
        const uint32_t* w = alignedWords(b + 2);
        raw.shift = shiftOf(b + 2);
#pragma unroll
        for (int i = 0; i < 5; ++i)
            raw.w[i] = w[i];
        raw.tail = raw.shift ? load16(reinterpret_cast<const uint8_t*>(w + 5)) : 0u;
        raw.d = load16(b);
    }
    __device__ static X loadX(const Input& x, unsigned p) {
        return loadChunk(x, p);
    }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        uint32_t qs[4], high[2][4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
            qs[i] = joined(raw.w[i + 1], i < 3 ? raw.w[i + 2] : raw.tail, raw.shift);
        fifthBits(joined(raw.w[0], raw.w[1], raw.shift), high);
        return fmaf(lowHalf(raw.d), fmaf(x.d, float(nibbleChunkDot(qs, high, x)), -16.0f * x.sum),
                    acc);
    }
};

// d, m, qh[4], qs[16]: 24 bytes at 8-byte alignment, one block per piece; y = q * d + m.
template <> struct Piece<Format<GgmlType::Q5_1>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint2 head, qs01, qs23; // head: dm, qh
    };
    using X = ChunkX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint2* b = reinterpret_cast<const uint2*>(row + p * 24);
        raw.head = b[0];
        raw.qs01 = b[1];
        raw.qs23 = b[2];
    }
    __device__ static X loadX(const Input& x, unsigned p) { return loadChunk(x, p); }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        const uint32_t qs[4] = {raw.qs01.x, raw.qs01.y, raw.qs23.x, raw.qs23.y};
        uint32_t high[2][4];
        fifthBits(raw.head.y, high);
        return fmaf(lowHalf(raw.head.x) * x.d, float(nibbleChunkDot(qs, high, x)),
                    fmaf(highHalf(raw.head.x), x.sum, acc));
    }
};

// ---- 256-value super-blocks.

// Q4_K and Q5_K: d, dmin, scales[12], then (Q5_K) qh[32] and qs[128], 16-byte aligned. Sub-block
// pair j (values 64j..64j+63) takes qs[32j..32j+31]: low nibbles are sub-block 2j, high nibbles
// 2j + 1; Q5_K's fifth bit of value l of sub-block s is bit s of qh[l]. y = d*sc*q - dmin*m.
// Piece t (0..7) of a super-block is the half h = t % 2 of pair j = t / 2: 16 bytes of qs, values
// 16h..16h+15 of both sub-blocks.
struct KX {
    uint4 lo, hi;   // x of values 16h.. of sub-blocks 2j and 2j + 1
    float d0, sum0; // sub-block 2j: chunk scale, d * sum(q) over the piece's 16 values
    float d1, sum1; // sub-block 2j + 1
    // Where the pair's 6-bit scales and minima lie in the scales[] words (kScalesOfPair).
    unsigned shift, topShift, topMask, lowMask;
    unsigned fifthShift; // Q5_K: 2j, the bit of sub-block 2j in qh
};

// Sub-blocks 0-3 keep their 6-bit scales in bytes 0-3 and minima in bytes 4-7 of scales[];
// sub-blocks 4-7 keep their low four bits in the low (scales) and high (minima) nibbles of bytes
// 8-11 and their top two bits in bits 6-7 of bytes 0-3 and 4-7. Either way pair j's two scales
// sit in bytes 2(j % 2) and 2(j % 2) + 1 of the words, so per lane a shift and two masks say
// where: topMask keeps the six bits (j < 2) or the top two (j >= 2, shifted down by 2 more);
// lowMask keeps the low nibble from bytes 8-11 (j >= 2) or nothing.
__device__ __forceinline__ KX loadKX(const Input& x, unsigned p) {
    const unsigned superBlock = p / 8, pair = p % 8 / 2, half = p % 2;
    const unsigned first = 256 * superBlock + 64 * pair + 16 * half;
    const float4 c0 = x.chunks[8 * superBlock + 2 * pair];
    const float4 c1 = x.chunks[8 * superBlock + 2 * pair + 1];
    const bool upper = pair >= 2;
    const unsigned shift = 16 * (pair % 2);
    return {*reinterpret_cast<const uint4*>(x.q + first),
            *reinterpret_cast<const uint4*>(x.q + first + 32),
            c0.x,
            half ? c0.z : c0.y,
            c1.x,
            half ? c1.z : c1.y,
            shift,
            upper ? shift + 2 : shift,
            upper ? 0x3030u : 0x3F3Fu,
            upper ? 0x0F0Fu : 0u,
            2 * pair};
}

// acc plus the piece's sum: qs holds its 16 bytes of quants, high the fifth bits in place, head
// d and dmin, then scales[0..11] (get_scale_min_k4 for the pair's two sub-blocks).
__device__ __forceinline__ float kPieceAdd(const uint4& head, const uint4& qs,
                                           const uint32_t (&high)[2][4], const KX& x, float acc) {
    const uint32_t q[4] = {qs.x, qs.y, qs.z, qs.w};
    const uint32_t lo[4] = {x.lo.x, x.lo.y, x.lo.z, x.lo.w};
    const uint32_t hi[4] = {x.hi.x, x.hi.y, x.hi.z, x.hi.w};
    int sum0 = 0, sum1 = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        sum0 = dot4((q[i] & kLowNibbles) | high[0][i], lo[i], sum0);
        sum1 = dot4(((q[i] >> 4) & kLowNibbles) | high[1][i], hi[i], sum1);
    }
    const uint32_t scales =
        ((head.y >> x.topShift) & x.topMask) | ((head.w >> x.shift) & x.lowMask);
    const uint32_t minima =
        ((head.z >> x.topShift) & x.topMask) | ((head.w >> (x.shift + 4)) & x.lowMask);
    const float scaled =
        x.d0 * float(int(scales & 0xFFu) * sum0) + x.d1 * float(int(scales >> 8) * sum1);
    const float offset = float(minima & 0xFFu) * x.sum0 + float(minima >> 8) * x.sum1;
    return fmaf(-highHalf(head.x), offset, fmaf(lowHalf(head.x), scaled, acc));
}

template <> struct Piece<Format<GgmlType::Q4_K>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint4 head, qs;
    };
    using X = KX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint8_t* b = row + (p / 8) * 144;
        raw.head = *reinterpret_cast<const uint4*>(b);
        raw.qs = *reinterpret_cast<const uint4*>(b + 16 + 16 * (p % 8));
    }
    __device__ static X loadX(const Input& x, unsigned p) { return loadKX(x, p); }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        const uint32_t none[2][4] = {};
        return kPieceAdd(raw.head, raw.qs, none, x, acc);
    }
};

template <> struct Piece<Format<GgmlType::Q5_K>> {
    static constexpr int kValues = 32;
    struct Raw {
        uint4 head, qh, qs;
    };
    using X = KX;
    __device__ static void load(const uint8_t* row, unsigned p, Raw& raw) {
        const uint8_t* b = row + (p / 8) * 176;
        raw.head = *reinterpret_cast<const uint4*>(b);
        raw.qh = *reinterpret_cast<const uint4*>(b + 16 + 16 * (p % 2));
        raw.qs = *reinterpret_cast<const uint4*>(b + 48 + 16 * (p % 8));
    }
    __device__ static X loadX(const Input& x, unsigned p) { return loadKX(x, p); }
    __device__ static float add(const Raw& raw, const X& x, float acc) {
        const uint32_t qh[4] = {raw.qh.x, raw.qh.y, raw.qh.z, raw.qh.w};
        uint32_t high[2][4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            high[0][i] = ((qh[i] >> x.fifthShift) & 0x01010101u) << 4;
            high[1][i] = ((qh[i] >> (x.fifthShift + 1)) & 0x01010101u) << 4;
        }
        return kPieceAdd(raw.head, raw.qs, high, x, acc);
    }
};

// ---- Q6_K, in a loop of its own (matvecQ6K below).

// Pieces per step of the Q6_K loop (H200, 14336x4096: 1 piece 21.7 us, 2 pieces 21.1 us,
// 3 pieces 24.3 us).
constexpr int kQ6KPiecesPerStep = kPiecesPerStep;

// ql[128], qh[64], scales[16] (int8), d: 210 bytes at 2-byte alignment; quants carry a +32 bias.
// Value l (0..31) of chunk r (0..3) of half h: low (r < 2) or high nibble of
// ql[64h + 32(r % 2) + l], bits 2r..2r+1 of qh[32h + l], scale scales[8h + 2r + l / 16].
// Piece k (0..7) of a super-block is values 8i..8i+7 (i = k % 4) of the four chunks of half
// h = k / 4: 8 bytes of each ql run (chunks 0 and 2, 1 and 3) and of qh, each read as three
// aligned words and joined by funnel shifts, and the four chunks' scales. Each four values come
// together as six-bit quants in one bit select (low nibbles from ql, bits 4-5 from qh with bits
// 6-7 clear) and meet their x in a dp4a that starts from -32 * sum(x): the bias, formed once for
// all the rows by a dp4a against -32s.
struct Q6KPiece {
    static constexpr int kBytes = int(quant::kBlockBytes<quant::GgmlType::Q6_K>);
    struct Raw {
        // Aligned words from ql[64h + 8i], ql[64h + 32 + 8i] and qh[32h + 8i].
        uint32_t run0[3], run1[3], qh[3];
        int scale[4]; // scales[8h + 2r + i / 2]
        uint32_t d;
    };
    // Where one row's piece k of a super-block lies; `shift` joins its aligned words.
    struct Where {
        const uint32_t* runs; // run0; run1 is 8 words further
        const uint32_t* qh;
        const int8_t* scales;
        const uint8_t* d;
        uint32_t shift;
    };
    struct X {
        uint2 q[4]; // values 8i..8i+7 of chunk 4h + r of the super-block
        float d[4];
        int bias[4]; // -32 * sum(q) over them
    };

    __device__ static Where where(const uint8_t* superBlock, unsigned k) {
        const unsigned half = k / 4, i = k % 4;
        // Rows start at even addresses: a super-block is 4-byte aligned or 2 bytes past.
        const unsigned misaligned = unsigned(reinterpret_cast<uintptr_t>(superBlock)) & 2u;
        const uint8_t* words = superBlock - misaligned;
        uint32_t shift = misaligned * 8;
        asm("" : "+r"(shift)); // kept in a register, not recomputed from the row in the loop
        return {reinterpret_cast<const uint32_t*>(words + 64 * half + 8 * i),
                reinterpret_cast<const uint32_t*>(words + 128 + 32 * half + 8 * i),
                reinterpret_cast<const int8_t*>(superBlock + 192 + 8 * half + i / 2),
                superBlock + 208, shift};
    }
    // The piece `offset` bytes (a multiple of 4) after `at`.
    __device__ static void load(const Where& at, int offset, Raw& raw) {
        const uint32_t* runs = at.runs + offset / 4;
        const uint32_t* qh = at.qh + offset / 4;
#pragma unroll
        for (int j = 0; j < 3; ++j) {
            raw.run0[j] = runs[j];
            raw.run1[j] = runs[8 + j];
            raw.qh[j] = qh[j];
        }
#pragma unroll
        for (int r = 0; r < 4; ++r)
            raw.scale[r] = at.scales[offset + 2 * r];
        raw.d = load16(at.d + offset);
    }
    // q: x.q at the piece's values of chunk 0; d: the scale of that chunk (chunks 16 bytes apart).
    __device__ static X loadX(const uint2* q, const float* d) {
        X out;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            out.q[r] = q[4 * r];
            out.d[r] = d[4 * r];
            out.bias[r] = dot4(out.q[r].y, kMinus32s, dot4(out.q[r].x, kMinus32s, 0));
        }
        return out;
    }
    __device__ static float add(const Raw& raw, uint32_t shift, const X& x, float acc) {
        int sum[4] = {x.bias[0], x.bias[1], x.bias[2], x.bias[3]};
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const uint32_t run0 = joined(raw.run0[j], raw.run0[j + 1], shift);
            const uint32_t run1 = joined(raw.run1[j], raw.run1[j + 1], shift);
            const uint32_t qh = joined(raw.qh[j], raw.qh[j + 1], shift);
            const uint32_t even = qh & 0x33333333u; // chunk 0 in bits 0-1, chunk 2 in bits 4-5
            const uint32_t odd = qh & 0xCCCCCCCCu;  // chunk 1 in bits 2-3, chunk 3 in bits 6-7
            const uint32_t xq[4] = {j ? x.q[0].y : x.q[0].x, j ? x.q[1].y : x.q[1].x,
                                    j ? x.q[2].y : x.q[2].x, j ? x.q[3].y : x.q[3].x};
            // Rotations, not shifts: the compiler would turn a shift of a masked word into a shift
            // and a mask of its own; the bits rotated around land in the low nibbles, not used.
            sum[0] = dot4(lowNibblesOver(run0, __funnelshift_l(even, even, 4)), xq[0], sum[0]);
            sum[1] = dot4(lowNibblesOver(run1, __funnelshift_l(odd, odd, 2)), xq[1], sum[1]);
            sum[2] = dot4(lowNibblesOver(run0 >> 4, even), xq[2], sum[2]);
            sum[3] = dot4(lowNibblesOver(run1 >> 4, odd >> 2), xq[3], sum[3]);
        }
        float scaled = x.d[0] * float(raw.scale[0] * sum[0]);
#pragma unroll
        for (int r = 1; r < 4; ++r)
            scaled = fmaf(x.d[r], float(raw.scale[r] * sum[r]), scaled);
        return fmaf(lowHalf(raw.d), scaled, acc);
    }
};

// The matrices of a launch, passed by value. Each matrix's rows fall into row groups of
// kRowsPerWarp, one warp each, numbered over the matrices in order (a row group never spans two
// matrices): matrix i takes warps firstWarp[i] to firstWarp[i + 1] - 1; the entries past the
// last matrix hold the total.
struct Matrices {
    MatvecMatrix matrix[kMatvecMaxMatrices];
    unsigned firstWarp[kMatvecMaxMatrices + 1];
};

// The rows of one warp: kRowsPerWarp rows of one matrix from firstRow (reads past its last row
// are clamped to it, and not stored).
struct WarpRows {
    const uint8_t* weight;
    int64_t rowBytes, rows, firstRow;
    const float* bias;
    float* y;
};

__device__ __forceinline__ unsigned warpIndex() {
    return blockIdx.x * kWarps + threadIdx.x / 32;
}

// The rows of warp `warp`; false past the last matrix. Selects by comparisons with constant
// indices, so the parameters are read in place (no copy to local memory).
__device__ __forceinline__ bool warpRows(const Matrices& m, unsigned warp, WarpRows& out) {
    if (warp >= m.firstWarp[kMatvecMaxMatrices]) return false; // whole warps only (warpSum)
    MatvecMatrix matrix = m.matrix[0];
    unsigned first = 0;
#pragma unroll
    for (int i = 1; i < kMatvecMaxMatrices; ++i)
        if (warp >= m.firstWarp[i]) {
            matrix = m.matrix[i];
            first = m.firstWarp[i];
        }
    out.weight = static_cast<const uint8_t*>(matrix.weight);
    out.rowBytes = matrix.rowBytes;
    out.rows = matrix.rows;
    out.firstRow = int64_t(warp - first) * kRowsPerWarp;
    out.bias = matrix.bias;
    out.y = matrix.y;
    return true;
}

// Stores the warp's sums. The matrix is selected again rather than kept from the start: its
// bias, output and row count would hold registers through the loop.
__device__ __forceinline__ void storeRows(const Matrices& m, unsigned lane,
                                          const float (&acc)[kRowsPerWarp]) {
    WarpRows w;
    warpRows(m, warpIndex(), w);
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
        const float total = warpSum(acc[r]);
        if (lane == 0 && w.firstRow + r < w.rows)
            w.y[w.firstRow + r] = total + (w.bias ? w.bias[w.firstRow + r] : 0.0f);
    }
}

template <class P>
__global__ void __launch_bounds__(kThreads)
    matvecKernel(Matrices matrices, unsigned pieces, Input x) {
    const unsigned lane = threadIdx.x % 32;
    WarpRows w;
    if (!warpRows(matrices, warpIndex(), w)) return;
    const uint8_t* row[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
        row[r] = w.weight + min(w.firstRow + r, w.rows - 1) * w.rowBytes;
    float acc[kRowsPerWarp] = {};
    // A step loads kPiecesPerStep pieces of every row before using any, so a warp waits for
    // memory once per step.
    for (unsigned first = lane; first < pieces; first += 32 * kPiecesPerStep) {
        typename P::Raw raw[kPiecesPerStep][kRowsPerWarp];
#pragma unroll
        for (int s = 0; s < kPiecesPerStep; ++s)
            if (first + 32 * s < pieces)
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                    P::load(row[r], first + 32 * s, raw[s][r]);
#pragma unroll
        for (int s = 0; s < kPiecesPerStep; ++s)
            if (first + 32 * s < pieces) {
                const typename P::X xp = P::loadX(x, first + 32 * s);
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                    acc[r] = P::add(raw[s][r], xp, acc[r]);
            }
    }
    storeRows(matrices, lane, acc);
}

// Q6_K's loop: the same rows, steps and order of loads as matvecKernel, with eight lanes per
// super-block (lane l takes piece l % 8 of super-blocks l / 8, l / 8 + 4, ...). A lane's pieces
// lie 840 bytes apart, so their alignment stays and their addresses are advanced, not recomputed
// from the piece index.
__global__ void __launch_bounds__(kThreads)
    matvecQ6K(Matrices matrices, unsigned superBlocks, Input x) {
    using P = Q6KPiece;
    constexpr int kStep = 4; // super-blocks per piece step (32 lanes)
    const unsigned lane = threadIdx.x % 32, k = lane % 8;
    WarpRows w;
    if (!warpRows(matrices, warpIndex(), w)) return;
    P::Where at[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
        at[r] = P::where(
            w.weight + min(w.firstRow + r, w.rows - 1) * w.rowBytes + (lane / 8) * P::kBytes, k);
    const unsigned firstChunk = 8 * (lane / 8) + 4 * (k / 4);
    const uint2* xq = reinterpret_cast<const uint2*>(x.q + 32 * firstChunk) + k % 4;
    const float* xd = reinterpret_cast<const float*>(x.chunks + firstChunk);
    float acc[kRowsPerWarp] = {};
    for (unsigned first = lane / 8; first < superBlocks; first += kStep * kQ6KPiecesPerStep) {
        P::Raw raw[kQ6KPiecesPerStep][kRowsPerWarp];
#pragma unroll
        for (int s = 0; s < kQ6KPiecesPerStep; ++s)
            if (first + kStep * s < superBlocks)
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                    P::load(at[r], kStep * P::kBytes * s, raw[s][r]);
#pragma unroll
        for (int s = 0; s < kQ6KPiecesPerStep; ++s)
            if (first + kStep * s < superBlocks) {
                const P::X xp = P::loadX(xq + kStep * 32 * s, xd + kStep * 32 * s);
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                    acc[r] = P::add(raw[s][r], at[r].shift, xp, acc[r]);
            }
        constexpr int kAdvance = kStep * kQ6KPiecesPerStep * P::kBytes; // a multiple of 4
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
            at[r].runs += kAdvance / 4;
            at[r].qh += kAdvance / 4;
            at[r].scales += kAdvance;
            at[r].d += kAdvance;
        }
        xq += kStep * kQ6KPiecesPerStep * 32;
        xd += kStep * kQ6KPiecesPerStep * 32;
    }
    storeRows(matrices, lane, acc);
}

template <class Fmt>
cudaError_t launch(const Matrices& matrices, int64_t cols, Input x, cudaStream_t stream) {
    if (Fmt::kFloat ? x.values == nullptr : x.q == nullptr) return cudaErrorInvalidValue;
    const unsigned blocks = (matrices.firstWarp[kMatvecMaxMatrices] + kWarps - 1) / kWarps;
    if constexpr (std::is_same_v<Fmt, Format<GgmlType::Q6_K>>) {
        matvecQ6K<<<blocks, kThreads, 0, stream>>>(matrices, unsigned(cols / 256), x);
    } else {
        using P = Piece<Fmt>;
        matvecKernel<P><<<blocks, kThreads, 0, stream>>>(matrices, unsigned(cols / P::kValues), x);
    }
    return cudaGetLastError();
}

} // namespace

bool matvecReadsQuantizedX(quant::GgmlType type) {
    bool quantized = false;
    HIP_DISPATCH_FORMAT(type, return false, quantized = !Fmt::kFloat);
    return quantized;
}

cudaError_t matvec(const MatvecMatrix* matrices, int count, quant::GgmlType type, int64_t cols,
                   const float* x, const void* xq, cudaStream_t stream) {
    if (count < 1 || count > kMatvecMaxMatrices) return cudaErrorInvalidValue;
    Matrices m{};
    int64_t warps = 0;
    for (int i = 0; i < count; ++i) {
        if (matrices[i].rows < 0) return cudaErrorInvalidValue;
        m.matrix[i] = matrices[i];
        m.firstWarp[i] = unsigned(warps);
        warps += (matrices[i].rows + kRowsPerWarp - 1) / kRowsPerWarp;
    }
    if (warps == 0) return cudaSuccess;
    if (cols % 32 != 0 || warps > int64_t(INT32_MAX)) return cudaErrorInvalidValue;
    for (int i = count; i <= kMatvecMaxMatrices; ++i)
        m.firstWarp[i] = unsigned(warps);
    const auto* quantized = static_cast<const uint8_t*>(xq);
    const Input input{x, reinterpret_cast<const int8_t*>(quantized),
                      quantized ? reinterpret_cast<const float4*>(quantized + cols) : nullptr};
    cudaError_t result = cudaErrorInvalidValue;
    HIP_DISPATCH_FORMAT(type, return cudaErrorInvalidValue,
                        result = launch<Fmt>(m, cols, input, stream));
    return result;
}

} // namespace hip::kernels
