// Convolution kernels (implicit GEMM, im2col/col2im, fused ReLU-gradient/bias sums, depthwise
// direct) for AVX-512; see conv_impl.h and implicit_impl.h.
#define PYFASTNN_ISA_NS avx512
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*), a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "conv/implicit_impl.h"
#include "gemm/tiles_avx512.h"

namespace pyfastnn {
extern constexpr ConvKernelTable conv_kernels_avx512 =
    avx512::conv_k::make_table<avx512::Avx512SgemmConfig<avx512::Avx512F32>,
                               avx512::Avx512DgemmConfig<avx512::Avx512F64>>();
}  // namespace pyfastnn
