// Normalization row kernels for the portable instruction set; see norm_impl.h.
#define PYFASTNN_ISA_NS portable
#include "norm/norm_impl.h"

namespace pyfastnn {
constexpr NormKernelTable norm_kernels_portable = portable::norm_k::make_table();
}  // namespace pyfastnn
