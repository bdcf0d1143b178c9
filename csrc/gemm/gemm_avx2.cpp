// AVX2 + FMA kernels (16 YMM registers): 6 x 16 float tile = 12 accumulators + 2 B + 1 A.
#define PYFASTNN_ISA_NS avx2
#include "gemm/blocked.h"
#include "gemm/kernel_table.h"
#include "gemm/peak.h"

namespace pyfastnn {
namespace avx2 {
// KC x NR B micro-panel streams from L2 (16 KiB), the 6 x KC A micro-panel stays in L1.
using SgemmConfig = KernelConfig<Avx2F32, 6, 2, 1536, 256, 192>;
using DgemmConfig = KernelConfig<Avx2F64, 6, 2, 768, 256, 96>;
}  // namespace avx2

constexpr GemmKernelTable gemm_kernels_avx2 = {&avx2::gemm_blocked<avx2::SgemmConfig>,
                                           &avx2::gemm_blocked<avx2::DgemmConfig>,
                                           &avx2::fma_peak_gflops<avx2::Avx2F32>};

}  // namespace pyfastnn
