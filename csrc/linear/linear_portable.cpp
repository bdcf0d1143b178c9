// Linear-layer backward pass (gz = gy * act'(y), column sums) for the portable instruction set; see linear_impl.h.
#define PYFASTNN_ISA_NS portable
#include "linear/linear_impl.h"

namespace pyfastnn {
constexpr LinearKernelTable linear_kernels_portable = portable::linear_k::make_table();
}  // namespace pyfastnn
