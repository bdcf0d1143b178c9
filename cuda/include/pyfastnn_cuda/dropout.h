// Dropout with the counter-based mask of the CPU kernels (csrc/include/pyfastnn/dropout.h):
// keep(i) is a pure function of (seed, i), so for the same seed the GPU drops exactly the
// elements the CPU and the NumPy reference drop.
#pragma once
#include <cstdint>

#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {

// y[i] = keep(i) ? x[i] * T(1 / (1 - p)) : 0 for i < n (y may equal x); p in [0, 1]. The
// backward pass is the same call on the gradient with the same seed.
bool dropout_forward(DType dtype, const void* x, void* y, int64_t n, double p, uint64_t seed, std::uintptr_t stream);

// mask[i] = keep(i) as 0 / 1 bytes.
bool dropout_mask(uint8_t* mask, int64_t n, double p, uint64_t seed, std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
