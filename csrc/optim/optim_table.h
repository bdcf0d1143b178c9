// The per-ISA optimizer kernel tables (defined in optim_<isa>.cpp, used by optim.cpp).
#pragma once
#include <cstdint>

#include "pyfastnn/optim.h"

namespace pyfastnn {

// Scalars of one tensor's update, derived from the hyperparameters and its step.
struct OptimScalars {
  double a = 0, b = 0, c = 0, d = 0;
};

struct OptimKernelTable {
  void (*f32)(OptimKind, const OptimTensor<float>&, int64_t, int64_t, const OptimHyper&, const OptimScalars&);
  void (*f64)(OptimKind, const OptimTensor<double>&, int64_t, int64_t, const OptimHyper&, const OptimScalars&);
};

extern const OptimKernelTable optim_kernels_portable;
#ifdef PYFASTNN_X86
extern const OptimKernelTable optim_kernels_avx2;
extern const OptimKernelTable optim_kernels_avx512;
#endif

}  // namespace pyfastnn
