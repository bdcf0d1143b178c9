// Fused multi-tensor optimizer updates: one call updates every parameter of a param group
// (PyTorch's formulas), with OpenMP over the flattened elements of all tensors.
#pragma once
#include <cstdint>
#include <vector>

namespace pyfastnn {

// One parameter and its gradient and state buffers (unused buffers are null). step is the
// step number after this update (1 on the first); first marks a momentum buffer's first use.
template <class T>
struct OptimTensor {
  T* param = nullptr;
  const T* grad = nullptr;
  T* s0 = nullptr;  // exp_avg | momentum_buffer | square_avg | sum
  T* s1 = nullptr;  // exp_avg_sq | momentum_buffer (rmsprop) | acc_delta
  T* s2 = nullptr;  // max_exp_avg_sq | grad_avg (rmsprop)
  int64_t n = 0;
  double step = 0;
  bool first = false;
};

enum class OptimKind { sgd, adam, rmsprop, adagrad, adadelta };

struct OptimHyper {
  double lr = 0, weight_decay = 0;
  bool maximize = false;
  double momentum = 0, dampening = 0;  // sgd, rmsprop (momentum)
  bool nesterov = false;               // sgd
  double beta1 = 0, beta2 = 0, eps = 0;  // adam (eps for rmsprop/adagrad/adadelta too)
  bool amsgrad = false, decoupled = false;  // adam
  double alpha = 0;   // rmsprop smoothing; adadelta rho
  bool centered = false;  // rmsprop
  double lr_decay = 0;    // adagrad
};

template <class T>
void optim_step(OptimKind kind, std::vector<OptimTensor<T>>& tensors, const OptimHyper& h, int num_threads);

}  // namespace pyfastnn
