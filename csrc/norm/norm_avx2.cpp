// Normalization row kernels for the avx2 instruction set; see norm_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "norm/norm_impl.h"

namespace pyfastnn {
constexpr NormKernelTable norm_kernels_avx2 = avx2::norm_k::make_table();
}  // namespace pyfastnn
