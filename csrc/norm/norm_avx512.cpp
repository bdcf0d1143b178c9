// Normalization row kernels for the avx512 instruction set; see norm_impl.h.
#define PYFASTNN_ISA_NS avx512
#include "norm/norm_impl.h"

namespace pyfastnn {
constexpr NormKernelTable norm_kernels_avx512 = avx512::norm_k::make_table();
}  // namespace pyfastnn
