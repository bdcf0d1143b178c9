// Activation kernels (float32) on baseline x86-64 (SSE2) or any other CPU; see activation_impl.h.
#define PYFASTNN_ISA_NS portable
#include "activation/activation_impl.h"

namespace pyfastnn {
constexpr ActKernelTable act_kernels_portable = portable::act::make_table();
}  // namespace pyfastnn
