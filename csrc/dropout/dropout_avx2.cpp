// Dropout kernels for the avx2 instruction set; see dropout_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "dropout/dropout_impl.h"

namespace pyfastnn {
constexpr DropoutKernelTable dropout_kernels_avx2 = avx2::dropout_k::make_table();
}  // namespace pyfastnn
