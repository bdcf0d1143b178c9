// Recurrent-layer cells, step products and time loops for baseline x86-64 (SSE2) or any other CPU; see rnn_impl.h.
#define PYFASTNN_ISA_NS portable
#include "rnn/rnn_impl.h"

namespace pyfastnn {
constexpr RnnKernelTable rnn_kernels_portable = portable::rnn_k::make_table();
}  // namespace pyfastnn
