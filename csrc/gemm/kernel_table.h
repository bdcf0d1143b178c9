// The GEMM entry points each ISA translation unit provides.
#pragma once
#include "pyfastnn/gemm.h"

namespace pyfastnn {

struct GemmKernelTable {
  void (*sgemm)(const GemmArgs<float>&, int num_threads);
  void (*dgemm)(const GemmArgs<double>&, int num_threads);
  double (*peak_gflops)(int num_threads, double seconds);  // float32 FMA peak, measured
};

extern const GemmKernelTable gemm_kernels_portable;
extern const GemmKernelTable gemm_kernels_avx512_emulated;
#ifdef PYFASTNN_X86
extern const GemmKernelTable gemm_kernels_avx2;
extern const GemmKernelTable gemm_kernels_avx512;
#endif

}  // namespace pyfastnn
