// Row kernels: softmax / log_softmax over the last axis and the fused softmax-cross-entropy,
// with the semantics of pyfastnn/backends/reference/softmax.py (PyTorch's F.cross_entropy:
// class weights, ignore_index, label smoothing, probability targets, reductions) plus a
// per-sample weight. All matrices are C-contiguous rows x cols.
#pragma once
#include <cstdint>

#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {

// y = softmax(x) (or log_softmax when `log`) along each row; y may equal x.
bool softmax_forward(DType dtype, bool log, const void* x, void* y, int64_t rows, int64_t cols, std::uintptr_t stream);
// gx from the forward output y and gy: softmax y (gy - sum(gy y)), log_softmax gy - e^y sum(gy).
bool softmax_backward(DType dtype, bool log, const void* y, const void* gy, void* gx, int64_t rows, int64_t cols,
                      std::uintptr_t stream);

enum class Reduction : int { none = 0, mean = 1, sum = 2 };

// Rows of the state the forward pass leaves for the backward pass, (kXentStateRows, n):
// 0: row max, 1: log of sum exp(x - max), 2: total target weight of the row (the reference's
// three), 3: the row's loss, 4: the row's share of the 'mean' divisor; after a 'mean' or
// 'sum' forward, state[4][0] holds the whole divisor.
constexpr int kXentStateRows = 5;

struct XentParams {
  DType dtype = DType::f32;
  const void* logits = nullptr;          // (n, c)
  int64_t n = 0, c = 0;
  const int64_t* target_index = nullptr;  // (n,) class indices, or null with target_prob
  const void* target_prob = nullptr;      // (n, c) probabilities
  const void* weight = nullptr;           // (c,) class weights or null
  const void* sample_weight = nullptr;    // (n,) or null
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;
  Reduction reduction = Reduction::mean;
};

// loss: (n,) for reduction none, else one value; state: (kXentStateRows, n). A target outside
// [0, c) other than ignore_index gives that row a NaN loss (and NaN gradients).
bool softmax_xent_forward(const XentParams& p, void* loss, void* state, std::uintptr_t stream);
// grad (n, c) of the loss given grad_loss ((n,) for none, else one value), on the device.
bool softmax_xent_backward(const XentParams& p, const void* state, const void* grad_loss, void* grad,
                           std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
