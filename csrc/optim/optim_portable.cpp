// Optimizer update kernels for the portable instruction set; see optim_impl.h.
#define PYFASTNN_ISA_NS portable
#include "optim/optim_impl.h"

namespace pyfastnn {
constexpr OptimKernelTable optim_kernels_portable = portable::optim_k::make_table();
}  // namespace pyfastnn
