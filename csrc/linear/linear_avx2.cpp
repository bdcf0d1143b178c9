// Linear-layer backward pass (gz = gy * act'(y), column sums) for the avx2 instruction set; see linear_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "linear/linear_impl.h"

namespace pyfastnn {
constexpr LinearKernelTable linear_kernels_avx2 = avx2::linear_k::make_table();
}  // namespace pyfastnn
