// Activation kernels (float32) for AVX-512 (16 floats per register); see activation_impl.h.
#define PYFASTNN_ISA_NS avx512
#include "activation/activation_impl.h"

namespace pyfastnn {
constexpr ActKernelTable act_kernels_avx512 = avx512::act::make_table();
}  // namespace pyfastnn
