// Recurrent-layer cells, step products and time loops for AVX2 + FMA; see rnn_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "rnn/rnn_impl.h"

namespace pyfastnn {
constexpr RnnKernelTable rnn_kernels_avx2 = avx2::rnn_k::make_table();
}  // namespace pyfastnn
