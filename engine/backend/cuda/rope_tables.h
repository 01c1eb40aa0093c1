#pragma once
// The rotary angle table on the device for one rope configuration (see kernels::RopeTables), with
// the CPU reference's frequencies (factors and linear scaling included).

#include "backend/backend.h"
#include "backend/cuda/device_pool.h"
#include "kernels/kernel_types.h"

namespace hip::backend {

class DeviceRopeTables {
public:
    explicit DeviceRopeTables(const RopeParams& params) : params_(params) {}
    const RopeParams& params() const { return params_; }
    // Makes the table cover positions [0, maxPosition); growing it moves it (the old table stays
    // alive until the pool's next release). Runs on `stream` and waits for it.
    Status cover(int64_t maxPosition, DevicePool& pool, cudaStream_t stream);
    const kernels::RopeTables& view() const { return view_; }

private:
    RopeParams params_;
    DeviceAllocation table_;
    kernels::RopeTables view_;
};

} // namespace hip::backend
