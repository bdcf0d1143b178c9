// Dropout kernels for the portable instruction set; see dropout_impl.h.
#define PYFASTNN_ISA_NS portable
#include "dropout/dropout_impl.h"

namespace pyfastnn {
constexpr DropoutKernelTable dropout_kernels_portable = portable::dropout_k::make_table();
}  // namespace pyfastnn
