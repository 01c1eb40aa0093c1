// Token sampling in one block of 1024 threads, without sorting the vocabulary.
//
// Every element gets a unique 64-bit rank: the logit mapped to an order-preserving uint32 (NaN
// lowest, -0 as +0) above the bitwise-inverted token id, so ranks descend exactly in the CPU
// sampler's order (larger logit first, equal logits by lower id). Each filter of the CPU sampler
// is then "the first element, in descending rank, at which a cumulative weight reaches a
// target", found by a radix select: eight 8-bit digits of the rank, most significant first; a
// pass builds a 256-bin histogram (count and weight) of the elements that share the digits
// chosen so far, one warp scans it from the top bin down, and the select stops as soon as the
// chosen bin holds a single element. Top-k counts (weight 1, target k); top-p and the final pick
// weigh each candidate by its probability in 2^-62 fixed point (targets topP and u * the kept
// mass). Weights are added with integer atomics, so results do not depend on thread timing. The
// candidates at each step are the elements ranked at or above a floor: the k-th element for
// top-k, the last element min-p keeps (min-p compares each probability with the top one's times
// minP, as the CPU does), the element where top-p stops.
//
// Passes over the whole vocabulary dominate the time, so the candidates are compacted into a
// shared-memory list as soon as they fit (8192 ids), and later passes read only them. For top-k
// up to 1024, the k-th best of the threads' own maxima (found in the max pass) bounds the top k
// from below, so one pass lists a small superset of them before the top-k select runs.
// Probabilities are computed as the CPU computes them (float exponentials rounded from double,
// divided in double by the sum of the candidates' exponentials, here summed in 2^-39 fixed
// point), so the GPU and CPU agree except within rounding of a boundary.

#include "kernels/sampling.h"

#include "kernels/device_common.cuh"

#include <cmath>

namespace hip::kernels {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr int kBins = 256;
constexpr int kDigits = 8; // of a 64-bit rank
constexpr int kListCapacity = 8192;
constexpr int kUnroll = 4; // elements a thread loads before it processes them
constexpr uint32_t kNoBin = 0xffffffffu;
constexpr int kSummedGroups = 4; // bins per warp whose weights are summed before the atomics
// Exponentials are at most 1 each and at most 2^24 are added; probabilities add up to about 1.
constexpr double kExponentialScale = 0x1p39;
constexpr double kProbabilityScale = 0x1p62;

__device__ __forceinline__ uint32_t logitKey(float v) {
    if (v != v) return 0; // NaN ranks below every number
    const uint32_t bits = v == 0.0f ? 0u : __float_as_uint(v);
    return bits & 0x80000000u ? ~bits : bits | 0x80000000u;
}

__device__ __forceinline__ uint64_t rankOf(float logit, int32_t index) {
    return uint64_t(logitKey(logit)) << 32 | ~uint32_t(index);
}

__device__ __forceinline__ int32_t indexOf(uint64_t rank) {
    return int32_t(~uint32_t(rank));
}

__device__ __forceinline__ bool isNumber(uint64_t rank) {
    return rank >> 32 != 0;
}

// The softmax of the candidates at the sampler's temperature, in the CPU sampler's arithmetic:
// the float exponential rounded from double (like the host's expf) and the probability divided
// in double.
struct Softmax {
    float maxLogit = 0.0f;
    float temperature = 1.0f;
    double total = 1.0; // the candidates' exponentials added

    __device__ float exponential(float logit) const {
        return float(exp(double((logit - maxLogit) / temperature)));
    }
    __device__ float probability(float logit) const {
        return float(double(exponential(logit)) / total);
    }
};

__device__ __forceinline__ uint64_t fixedProbability(float p) {
    return __double2ull_rn(double(p) * kProbabilityScale);
}

// No member initializers: it lives in shared memory, which cannot be initialized.
struct Selection {
    uint64_t rank;   // the element found
    uint64_t before; // weight of the set's elements ranked above it
    uint64_t weight; // its own weight
    uint64_t total;  // weight of the whole set
    bool found;
};

struct Shared {
    uint32_t binCount[kBins];
    uint64_t binWeight[kBins];
    uint64_t binRank[kBins]; // an element of the bin: the element itself when it is alone
    union {
        int32_t list[kListCapacity];   // compacted candidate ids
        uint64_t threadBest[kThreads]; // each thread's top-ranked element, until the first list
    };
    uint64_t partial[kWarps];
    int32_t listCount;
    uint64_t prefix; // digits chosen so far
    uint64_t target; // weight still to reach among the elements that share them
    bool done;
    Selection selection;
};

struct Add {
    __device__ uint64_t operator()(uint64_t a, uint64_t b) const { return a + b; }
};
struct Max {
    __device__ uint64_t operator()(uint64_t a, uint64_t b) const { return a > b ? a : b; }
};
struct Min {
    __device__ uint64_t operator()(uint64_t a, uint64_t b) const { return a < b ? a : b; }
};

// Every thread gets the result; integers, so the order of the threads does not matter.
template <class Op> __device__ uint64_t blockReduce(Shared& shared, uint64_t v, Op op) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v = op(v, __shfl_xor_sync(kFullMask, v, offset));
    if (threadIdx.x % 32 == 0) shared.partial[threadIdx.x / 32] = v;
    __syncthreads();
    uint64_t result = shared.partial[0];
    for (int w = 1; w < kWarps; ++w)
        result = op(result, shared.partial[w]);
    __syncthreads();
    return result;
}

// Candidate elements: those of the vocabulary, or of the shared list, ranked at or above `floor`.
struct Elements {
    const float* logits = nullptr;
    int32_t count = 0;             // the vocabulary
    const int32_t* list = nullptr; // the compacted candidates, or null: the whole vocabulary
    int32_t listCount = 0;
    uint64_t floor = 0;

    // Calls visit(member, rank, logit) the same number of times in every thread of a warp, so
    // visitors may use warp collectives.
    template <class Visit> __device__ void forEach(Visit&& visit) const {
        const int32_t size = list ? listCount : count;
        for (int32_t base = 0; base < size; base += kThreads * kUnroll) {
            int32_t index[kUnroll];
            float logit[kUnroll];
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) {
                const int32_t slot = base + k * kThreads + int32_t(threadIdx.x);
                index[k] = slot < size ? (list ? list[slot] : slot) : -1;
                logit[k] = index[k] >= 0 ? logits[index[k]] : 0.0f;
            }
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) {
                const uint64_t rank = index[k] >= 0 ? rankOf(logit[k], index[k]) : 0;
                visit(isNumber(rank) && rank >= floor, rank, logit[k]);
            }
        }
    }
};

// The threads' own top-ranked elements (one each), for the top-k bound.
struct ThreadBests {
    const uint64_t* ranks;

    template <class Visit> __device__ void forEach(Visit&& visit) const {
        const uint64_t rank = ranks[threadIdx.x];
        visit(isNumber(rank), rank, 0.0f);
    }
};

// Adds each matching lane's element to its bin. Lanes of a warp with the same bin are counted
// together: the first digit puts most of the vocabulary in a few bins, and shared-memory atomics
// on one address serialize. Weights of a few such groups are summed with warp shuffles first;
// with many groups the lanes rarely share a bin and add their own.
template <bool kWeighted>
__device__ void addToBin(Shared& shared, bool match, uint32_t bin, uint64_t rank, uint64_t weight) {
    const int lane = int(threadIdx.x % 32);
    const unsigned peers = __match_any_sync(kFullMask, match ? bin : kNoBin);
    const bool leader = match && lane == __ffs(int(peers)) - 1;
    if (leader) {
        atomicAdd(&shared.binCount[bin], uint32_t(__popc(peers)));
        shared.binRank[bin] = rank;
    }
    if constexpr (kWeighted) {
        auto addWeight = [&](uint32_t to, uint64_t w) {
            atomicAdd(reinterpret_cast<unsigned long long*>(&shared.binWeight[to]),
                      (unsigned long long)w);
        };
        unsigned leaders = __ballot_sync(kFullMask, leader);
        if (__popc(leaders) > kSummedGroups) {
            if (match) addWeight(bin, weight);
            return;
        }
        while (leaders != 0) {
            const int groupLeader = __ffs(int(leaders)) - 1;
            const uint32_t groupBin = __shfl_sync(kFullMask, bin, groupLeader);
            uint64_t sum = match && bin == groupBin ? weight : 0;
#pragma unroll
            for (int offset = 16; offset > 0; offset >>= 1)
                sum += __shfl_xor_sync(kFullMask, sum, offset);
            if (lane == groupLeader) addWeight(groupBin, sum);
            leaders &= leaders - 1;
        }
    }
}

// Warp 0: the first bin, from the top, whose cumulative weight reaches the target, among bins
// that hold elements. Lane l scans bins 255 - 8l down to 248 - 8l.
template <bool kWeighted> __device__ void chooseBin(Shared& shared, bool firstDigit) {
    const int lane = int(threadIdx.x);
    auto weightOf = [&](int bin) {
        return kWeighted ? shared.binWeight[bin] : uint64_t(shared.binCount[bin]);
    };
    uint32_t chunkCount = 0;
    uint64_t chunkWeight = 0;
    for (int j = 0; j < 8; ++j) {
        const int bin = kBins - 1 - 8 * lane - j;
        chunkCount += shared.binCount[bin];
        chunkWeight += weightOf(bin);
    }
    uint64_t inclusive = chunkWeight;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const uint64_t above = __shfl_up_sync(kFullMask, inclusive, offset);
        if (lane >= offset) inclusive += above;
    }
    const uint64_t target = shared.target;
    const unsigned reached = __ballot_sync(kFullMask, chunkCount > 0 && inclusive >= target);
    if (firstDigit && lane == 31) shared.selection.total = inclusive;
    if (reached == 0) {
        if (lane == 0) shared.done = true; // the whole set weighs less than the target
        return;
    }
    if (lane != __ffs(int(reached)) - 1) return;
    uint64_t before = inclusive - chunkWeight;
    for (int j = 0; j < 8; ++j) {
        const int bin = kBins - 1 - 8 * lane - j;
        const uint32_t count = shared.binCount[bin];
        const uint64_t weight = weightOf(bin);
        if (count > 0 && before + weight >= target) {
            shared.prefix = shared.prefix << 8 | uint32_t(bin);
            shared.target = target - before;
            shared.selection.before += before;
            if (count == 1) {
                shared.done = true;
                shared.selection.found = true;
                shared.selection.rank = shared.binRank[bin];
                shared.selection.weight = weight;
            }
            return;
        }
        before += weight;
    }
}

// The first element of `source`, in descending rank, at which the cumulative weight (1 per
// element, or its fixed-point probability) reaches `target`.
template <bool kWeighted, class Source>
__device__ Selection select(Shared& shared, const Source& source, const Softmax& softmax,
                            uint64_t target) {
    if (threadIdx.x == 0) {
        shared.prefix = 0;
        shared.target = target;
        shared.done = false;
        shared.selection = Selection{};
    }
    for (int digit = 0; digit < kDigits; ++digit) {
        if (threadIdx.x < kBins) {
            shared.binCount[threadIdx.x] = 0;
            shared.binWeight[threadIdx.x] = 0;
        }
        __syncthreads();
        const uint64_t prefix = shared.prefix;
        const int shift = 56 - 8 * digit;
        source.forEach([&](bool member, uint64_t rank, float logit) {
            const bool match = member && (digit == 0 || rank >> (shift + 8) == prefix);
            if (!__any_sync(kFullMask, match)) return;
            const uint64_t weight =
                kWeighted && match ? fixedProbability(softmax.probability(logit)) : 1;
            addToBin<kWeighted>(shared, match, uint32_t(rank >> shift) & 0xffu, rank, weight);
        });
        __syncthreads();
        if (threadIdx.x < 32) chooseBin<kWeighted>(shared, digit == 0);
        __syncthreads();
        if (shared.done) break;
    }
    const Selection result = shared.selection;
    __syncthreads(); // the next select resets it
    return result;
}

// Appends the ids of the lanes with `listed` to the shared list (past its capacity they are only
// counted).
__device__ void append(Shared& shared, bool listed, int32_t index) {
    const unsigned listers = __ballot_sync(kFullMask, listed);
    if (listers == 0) return;
    const int lane = int(threadIdx.x % 32);
    const int leader = __ffs(int(listers)) - 1;
    int32_t base = 0;
    if (lane == leader) base = atomicAdd(&shared.listCount, __popc(listers));
    base = __shfl_sync(kFullMask, base, leader);
    const int32_t slot = base + __popc(listers & ((1u << lane) - 1));
    if (listed && slot < kListCapacity) shared.list[slot] = index;
}

// Runs visit(member, rank, logit) -> listed over the candidates. When they are the whole
// vocabulary, the elements it lists are compacted on the way, and become the candidates if they
// fit.
template <class Visit>
__device__ Elements scan(Shared& shared, const Elements& candidates, Visit&& visit) {
    const bool compacting = candidates.list == nullptr;
    if (threadIdx.x == 0) shared.listCount = 0;
    __syncthreads();
    candidates.forEach([&](bool member, uint64_t rank, float logit) {
        const bool listed = visit(member, rank, logit);
        if (compacting) append(shared, listed, indexOf(rank));
    });
    __syncthreads();
    const int32_t listCount = shared.listCount;
    __syncthreads();
    if (!compacting || listCount > kListCapacity) return candidates;
    Elements listed = candidates;
    listed.list = shared.list;
    listed.listCount = listCount;
    return listed;
}

__global__ void __launch_bounds__(kThreads)
    sampleKernel(float* logits, int32_t count, const int32_t* penalized, int32_t penalizedCount,
                 SamplingParams params, double u, int32_t* result) {
    __shared__ Shared shared;

    // The repetition penalty, once per distinct id: the list is short, so a quadratic search
    // beats a set.
    for (int32_t r = int32_t(threadIdx.x); r < penalizedCount; r += kThreads) {
        const int32_t id = penalized[r];
        bool skip = id < 0 || id >= count;
        for (int32_t earlier = 0; earlier < r && !skip; ++earlier)
            skip = penalized[earlier] == id;
        if (skip) continue;
        const float l = logits[id];
        logits[id] = l > 0 ? l / params.repetitionPenalty : l * params.repetitionPenalty;
    }
    __syncthreads();

    // The top-ranked element (the first largest logit), and each thread's own best.
    Elements candidates{logits, count};
    uint64_t best = 0;
    candidates.forEach([&](bool member, uint64_t rank, float) {
        if (member && rank > best) best = rank;
    });
    shared.threadBest[threadIdx.x] = best;
    const uint64_t top = blockReduce(shared, best, Max{});
    const int32_t first = isNumber(top) ? indexOf(top) : 0;
    const float maxLogit = logits[first];
    if (!(params.temperature > 0.0f) || !isfinite(maxLogit)) {
        if (threadIdx.x == 0) *result = first;
        return;
    }
    Softmax softmax{maxLogit, params.temperature};

    if (params.topK > 0 && params.topK < count) {
        if (params.topK <= kThreads) {
            // At least k elements (thread bests) rank at or above the k-th thread best, so the
            // elements there include the top k, and are usually few enough to list.
            const Selection bound =
                select<false>(shared, ThreadBests{shared.threadBest}, softmax, params.topK);
            if (bound.found) {
                Elements above = candidates;
                above.floor = bound.rank;
                candidates =
                    scan(shared, above, [](bool member, uint64_t, float) { return member; });
            }
        }
        const Selection kth = select<false>(shared, candidates, softmax, params.topK);
        if (kth.found) candidates.floor = kth.rank;
    }

    uint64_t exponentials = 0;
    candidates = scan(shared, candidates, [&](bool member, uint64_t, float logit) {
        if (member)
            exponentials += __double2ull_rn(double(softmax.exponential(logit)) * kExponentialScale);
        return member;
    });
    softmax.total = double(blockReduce(shared, exponentials, Add{})) / kExponentialScale;

    if (params.minP > 0.0f) {
        // Probabilities fall with the rank, so the kept candidates are those at or above the
        // last one kept. The top one always stays.
        const float threshold = float(1.0 / softmax.total) * params.minP;
        uint64_t lastKept = ~uint64_t(0);
        candidates = scan(shared, candidates, [&](bool member, uint64_t rank, float logit) {
            const bool kept =
                member && (indexOf(rank) == first || !(softmax.probability(logit) < threshold));
            if (kept && rank < lastKept) lastKept = rank;
            return kept;
        });
        candidates.floor = blockReduce(shared, lastKept, Min{});
    }

    uint64_t keptMass = 0;
    if (params.topP < 1.0f) {
        const uint64_t target =
            params.topP > 0.0f ? uint64_t(ceil(double(params.topP) * kProbabilityScale)) : 0;
        const Selection cut = select<true>(shared, candidates, softmax, target);
        if (cut.found) {
            candidates.floor = cut.rank;
            keptMass = cut.before + cut.weight;
        } else {
            keptMass = cut.total;
        }
    } else {
        uint64_t mass = 0;
        candidates.forEach([&](bool member, uint64_t, float logit) {
            if (member) mass += fixedProbability(softmax.probability(logit));
        });
        keptMass = blockReduce(shared, mass, Add{});
    }

    int32_t token = first;
    if (candidates.floor != top) { // more than one candidate left
        const uint64_t scaled = uint64_t(ceil(u * double(keptMass)));
        const uint64_t target = scaled < keptMass ? scaled : keptMass;
        const Selection pick = select<true>(shared, candidates, softmax, target);
        if (pick.found) token = indexOf(pick.rank);
    }
    if (threadIdx.x == 0) *result = token;
}

} // namespace

cudaError_t sampleToken(float* logits, int64_t count, const int32_t* penalized,
                        int32_t penalizedCount, const SamplingParams& params, double u,
                        int32_t* result, cudaStream_t stream) {
    if (count <= 0 || count > kMaxSampledVocabulary || penalizedCount < 0)
        return cudaErrorInvalidValue;
    sampleKernel<<<1, kThreads, 0, stream>>>(logits, int32_t(count), penalized, penalizedCount,
                                             params, u, result);
    return cudaGetLastError();
}

} // namespace hip::kernels
