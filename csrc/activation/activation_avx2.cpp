// Activation kernels (float32) for AVX2 + FMA (8 floats per register); see activation_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "activation/activation_impl.h"

namespace pyfastnn {
constexpr ActKernelTable act_kernels_avx2 = avx2::act::make_table();
}  // namespace pyfastnn
