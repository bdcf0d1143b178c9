// Optimizer update kernels for the avx2 instruction set; see optim_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "optim/optim_impl.h"

namespace pyfastnn {
constexpr OptimKernelTable optim_kernels_avx2 = avx2::optim_k::make_table();
}  // namespace pyfastnn
