#pragma once
// Where a model runs.

namespace hip {

// Automatic: the GPU when one is usable for the load (this build has the CUDA backend, a GPU
// answers and the model fits its memory), else the CPU. A GPU that cannot take the load after all
// (its backend refuses the attention, a CUDA error) gives way to the CPU. Engine::estimateMemory
// says which one it chose.
enum class Device { Cpu, Cuda, Automatic };

} // namespace hip
