// Fused multi-tensor optimizer steps (PyTorch's formulas, as backends/reference/optim.py):
// every parameter of a group is updated by one launch (a launch per kMaxTensorsPerLaunch
// tensors). The tensor table travels in the kernel's parameter space, so a step needs no
// host-to-device copy and no synchronization.
#pragma once
#include <cstdint>
#include <vector>

#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {

struct AdamTensor {
  void* param;
  const void* grad;
  void* exp_avg;
  void* exp_avg_sq;
  void* max_exp_avg_sq;  // null unless amsgrad
  int64_t n;
  double step;           // this tensor's step number after the update (1 on the first)
};

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize, decoupled;  // decoupled: AdamW
};

bool adam_step(DType dtype, const std::vector<AdamTensor>& tensors, const AdamHyper& h, std::uintptr_t stream);

struct SgdTensor {
  void* param;
  const void* grad;
  void* momentum_buffer;  // null without momentum
  int64_t n;
  bool first;             // the buffer's first use: it is set to the gradient
};

struct SgdHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};

bool sgd_step(DType dtype, const std::vector<SgdTensor>& tensors, const SgdHyper& h, std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
