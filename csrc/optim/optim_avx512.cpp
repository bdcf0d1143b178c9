// Optimizer update kernels for the avx512 instruction set; see optim_impl.h.
#define PYFASTNN_ISA_NS avx512
#include "optim/optim_impl.h"

namespace pyfastnn {
constexpr OptimKernelTable optim_kernels_avx512 = avx512::optim_k::make_table();
}  // namespace pyfastnn
