// Pooling row kernels for the portable instruction set; see pool_impl.h.
#define PYFASTNN_ISA_NS portable
#include "pool/pool_impl.h"

namespace pyfastnn {
constexpr PoolKernelTable pool_kernels_portable = portable::pool_k::make_table();
}  // namespace pyfastnn
