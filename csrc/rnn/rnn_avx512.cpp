// Recurrent-layer cells, step products and time loops for AVX-512; see rnn_impl.h.
#define PYFASTNN_ISA_NS avx512
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*), a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "rnn/rnn_impl.h"

namespace pyfastnn {
constexpr RnnKernelTable rnn_kernels_avx512 = avx512::rnn_k::make_table();
}  // namespace pyfastnn
