// Linear-layer backward pass (gz = gy * act'(y), column sums) for the avx512 instruction set; see linear_impl.h.
#define PYFASTNN_ISA_NS avx512
#include "linear/linear_impl.h"

namespace pyfastnn {
constexpr LinearKernelTable linear_kernels_avx512 = avx512::linear_k::make_table();
}  // namespace pyfastnn
