// Pooling row kernels for the avx2 instruction set; see pool_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "pool/pool_impl.h"

namespace pyfastnn {
constexpr PoolKernelTable pool_kernels_avx2 = avx2::pool_k::make_table();
}  // namespace pyfastnn
