// Portable kernels on generic 128-bit vectors (SSE2 on any x86-64, NEON on aarch64), and
// the AVX-512 tile shape on generic 16-lane vectors for testing (see tiles_avx512.h).
#define PYFASTNN_ISA_NS portable
#include "gemm/blocked.h"
#include "gemm/kernel_table.h"
#include "gemm/peak.h"
#include "gemm/tiles_avx512.h"

namespace pyfastnn {
namespace portable {
using SgemmConfig = KernelConfig<VecExt<float, 4>, 6, 2, 1020, 256, 256>;
using DgemmConfig = KernelConfig<VecExt<double, 2>, 6, 2, 510, 256, 128>;
}  // namespace portable

constexpr GemmKernelTable gemm_kernels_portable = {&portable::gemm_blocked<portable::SgemmConfig>,
                                               &portable::gemm_blocked<portable::DgemmConfig>,
                                               &portable::fma_peak_gflops<portable::VecExt<float, 4>>};

constexpr GemmKernelTable gemm_kernels_avx512_emulated = {
    &portable::gemm_blocked<portable::Avx512SgemmConfig<portable::VecExt<float, 16>>>,
    &portable::gemm_blocked<portable::Avx512DgemmConfig<portable::VecExt<double, 8>>>,
    &portable::fma_peak_gflops<portable::VecExt<float, 16>>};

}  // namespace pyfastnn
