#pragma once
// Fills a rotary angle table (see RopeTables) on the device.

#include "kernels/kernel_types.h"

namespace hip::kernels {

// cosSin[p * pairs + i] = (cos, sin) of p * frequencies[i] for p < positions: the angle in double
// precision, each result rounded once to float (as the CPU reference's table).
cudaError_t fillRopeTable(const double* frequencies, int32_t pairs, int64_t positions,
                          float2* cosSin, cudaStream_t stream);

} // namespace hip::kernels
