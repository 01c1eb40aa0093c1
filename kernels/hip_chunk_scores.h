#pragma once
// SelectRep scores of a pruning stage's chunks (kernels-internal; hipPruneStage calls these).

#include "kernels/hip_mask.h"

namespace hip::kernels {

// Adds every input chunk's score, the best over query heads, to stage.scores by atomicMax on
// order-preserving bits (the caller zeroes them). Lists of no more chunks than the stage keeps
// are not scored: selection keeps them all.
cudaError_t launchChunkScores(const HipPruningStage& stage, cudaStream_t stream);

// The kernels' shared-memory opt-ins for keys of `type` and `headDim`, outside graph capture.
cudaError_t prepareChunkScores(Half16 type, int32_t headDim);

} // namespace hip::kernels
