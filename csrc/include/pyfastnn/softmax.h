// Softmax, log-softmax and the fused softmax-cross-entropy.
//
// Every matrix is rows x cols, row-major and contiguous (row i starts at i * cols); the
// reduction runs along a row (the ops move any other dim last first). float32 runs the
// SIMD kernels of the active instruction set (pyfastnn/isa.h); float64 is the accurate
// path (libm's exp/log) used for gradcheck and reference comparisons.
#pragma once
#include <cstdint>

namespace pyfastnn {

// y = softmax(x) along each row; y may alias x.
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int num_threads);
void softmax_forward(const double* x, double* y, int64_t rows, int64_t cols, int num_threads);
// gx = y * (gy - sum_j gy_j y_j); gx may alias gy.
void softmax_backward(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols, int num_threads);
void softmax_backward(const double* y, const double* gy, double* gx, int64_t rows, int64_t cols, int num_threads);
// y = x - logsumexp(x) along each row; y may alias x.
void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int num_threads);
void log_softmax_forward(const double* x, double* y, int64_t rows, int64_t cols, int num_threads);
// gx = gy - exp(y) * sum_j gy_j; gx may alias gy. y is the log-softmax output (<= 0: the
// float exp is only valid up to 88).
void log_softmax_backward(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols, int num_threads);
void log_softmax_backward(const double* y, const double* gy, double* gx, int64_t rows, int64_t cols,
                          int num_threads);

// Softmax cross-entropy of logits (n x c) against either class indices or probabilities,
// with PyTorch's F.cross_entropy semantics. With eps = smoothing, w = class weights (all
// ones when null) and W = sum_c w_c, row i's smoothed, weighted target is
//   class index y:   tw_c = (1 - eps) w_y [c == y] + (eps / c) w_c      (zero row when y == ignore_index)
//   probabilities t: tw_c = w_c ((1 - eps) t_c + eps / c)
// and its loss is sum_c tw_c (lse_i - x_ic), lse_i = logsumexp of row i.
template <class T>
struct XentArgs {
  const T* logits = nullptr;
  int64_t n = 0, c = 0;
  const int64_t* target = nullptr;  // class indices (n), validated to [0, c) or ignore_index; or
  const T* probs = nullptr;         // target probabilities (n x c)
  const T* weight = nullptr;        // class weights (c), or null
  int64_t ignore_index = -100;
  T smoothing = T(0);
  T weight_sum = T(0);  // sum of weight (c when null); only read with smoothing
};

// Per-row statistics kept for the backward (no probability matrix), stored as kXentStats
// rows of n (structure of arrays): the row max m_i; the log of sum_c exp(x_ic - m_i), so
// that lse_i = m_i + ls_i without rounding a large lse; and S_i = sum_c tw_c, the total
// target weight of the row (0 for an ignored row).
constexpr int kXentStats = 3;

// Writes row_loss (n) and stats (kXentStats x n).
void softmax_xent_forward(const XentArgs<float>& args, float* row_loss, float* stats, int num_threads);
void softmax_xent_forward(const XentArgs<double>& args, double* row_loss, double* stats, int num_threads);

// dlogits_ic = scale_i * (S_i softmax_ic - tw_ic), softmax recomputed as exp(x - m - ls),
// one pass per row; scale_i = scale * (row_scale ? row_scale[i] : 1).
void softmax_xent_backward(const XentArgs<float>& args, const float* stats, float scale, const float* row_scale,
                           float* dlogits, int num_threads);
void softmax_xent_backward(const XentArgs<double>& args, const double* stats, double scale,
                           const double* row_scale, double* dlogits, int num_threads);

}  // namespace pyfastnn
