// AVX-512 kernels (32 ZMM registers): 12 x 32 float tile = 24 accumulators + 2 B + 1 A.
#define PYFASTNN_ISA_NS avx512
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*), a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "gemm/blocked.h"
#include "gemm/kernel_table.h"
#include "gemm/peak.h"
#include "gemm/tiles_avx512.h"

namespace pyfastnn {

constexpr GemmKernelTable gemm_kernels_avx512 = {
    &avx512::gemm_blocked<avx512::Avx512SgemmConfig<avx512::Avx512F32>>,
    &avx512::gemm_blocked<avx512::Avx512DgemmConfig<avx512::Avx512F64>>,
    &avx512::fma_peak_gflops<avx512::Avx512F32>};

}  // namespace pyfastnn
