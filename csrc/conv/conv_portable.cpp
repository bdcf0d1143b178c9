// Convolution kernels (implicit GEMM, Winograd F(2x2,3x3), im2col/col2im, fused ReLU-gradient/bias sums, depthwise
// direct) on generic vectors; see conv_impl.h, implicit_impl.h and winograd_impl.h.
#define PYFASTNN_ISA_NS portable
#include "conv/kernel_table.h"

namespace pyfastnn {
namespace portable {
// the GEMM's tiles and cache blocks (gemm_portable.cpp)
using ConvSConfig = KernelConfig<VecExt<float, 4>, 6, 2, 1020, 256, 256>;
using ConvDConfig = KernelConfig<VecExt<double, 2>, 6, 2, 510, 256, 128>;
}  // namespace portable
extern constexpr ConvKernelTable conv_kernels_portable =
    portable::conv_k::make_table<portable::ConvSConfig, portable::ConvDConfig>();
}  // namespace pyfastnn
