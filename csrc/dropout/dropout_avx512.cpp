// Dropout kernels for the avx512 instruction set; see dropout_impl.h.
#define PYFASTNN_ISA_NS avx512
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*), a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "dropout/dropout_impl.h"

namespace pyfastnn {
constexpr DropoutKernelTable dropout_kernels_avx512 = avx512::dropout_k::make_table();
}  // namespace pyfastnn
