// Convolution kernels (implicit GEMM, Winograd F(2x2,3x3), im2col/col2im, fused ReLU-gradient/bias sums, depthwise
// direct) for AVX2 + FMA; see conv_impl.h, implicit_impl.h and winograd_impl.h.
#define PYFASTNN_ISA_NS avx2
#include "conv/kernel_table.h"

namespace pyfastnn {
namespace avx2 {
// the GEMM's tiles and cache blocks (gemm_avx2.cpp)
using ConvSConfig = KernelConfig<Avx2F32, 6, 2, 1536, 256, 192>;
using ConvDConfig = KernelConfig<Avx2F64, 6, 2, 768, 256, 96>;
}  // namespace avx2
extern constexpr ConvKernelTable conv_kernels_avx2 = avx2::conv_k::make_table<avx2::ConvSConfig, avx2::ConvDConfig>();
}  // namespace pyfastnn
