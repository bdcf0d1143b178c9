// Pooling row kernels for the avx512 instruction set; see pool_impl.h.
#define PYFASTNN_ISA_NS avx512
#include "pool/pool_impl.h"

namespace pyfastnn {
constexpr PoolKernelTable pool_kernels_avx512 = avx512::pool_k::make_table();
}  // namespace pyfastnn
