// Convolution kernels (implicit GEMM, Winograd F(2x2,3x3), im2col/col2im, fused ReLU-gradient/bias sums, depthwise
// direct) for AVX-512; see conv_impl.h, implicit_impl.h and winograd_impl.h.
#define PYFASTNN_ISA_NS avx512
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*), a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "conv/kernel_table.h"
#include "gemm/tiles_avx512.h"

namespace pyfastnn {
extern constexpr ConvKernelTable conv_kernels_avx512 =
    avx512::conv_k::make_table<avx512::Avx512SgemmConfig<avx512::Avx512F32>,
                               avx512::Avx512DgemmConfig<avx512::Avx512F64>>();
}  // namespace pyfastnn
