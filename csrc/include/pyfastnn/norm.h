// Normalization layers (PyTorch semantics): batch norm, layer norm, local response norm.
//
// Batch norm sees its input as (N, C, S): (N, C) has S = 1, (N, C, L) S = L and
// (N, C, H, W) S = H*W. Statistics are accumulated in double: per (n, c) plane a SIMD sum
// of (x - shift) and (x - shift)^2 (shift: the channel's first element), then the planes in
// order of n, so the result does not depend on the thread count. The normalization is
// y = (x - mean) * (invstd * weight) + bias in T. Saved statistics (mean, invstd) are double.
//
// The backward pass reads gy and x once for the channel sums sum(gy) and
// sum(gy * (x - mean)) and once more for dx, channel by channel (the channel's data is still
// in cache for the second pass):
//   training:  dx = k (gy - sum(gy)/M - xhat * sum(gy xhat)/M),  k = weight * invstd, M = N*S
//   eval:      dx = k gy   (running statistics are constants)
//   dweight = sum(gy * xhat), dbias = sum(gy)
#pragma once
#include <cstdint>

namespace pyfastnn {

// Training: batch statistics into save_mean / save_invstd (C doubles each; invstd =
// 1/sqrt(biased var + eps)), y normalized with them; running_mean / running_var (nullable)
// updated in place: r = (1 - momentum) r + momentum * stat, with the unbiased variance
// (var * M / (M - 1)). M = N*S must be >= 1 (the caller refuses M = 1 as PyTorch does).
// weight / bias nullable (1 / 0).
template <class T>
void batch_norm_forward_train(const T* x, T* y, int64_t N, int64_t C, int64_t S, const T* weight, const T* bias,
                              double eps, double* save_mean, double* save_invstd, T* running_mean, T* running_var,
                              double momentum, int num_threads);

// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c] with given statistics (eval mode:
// mean = running_mean, invstd = 1/sqrt(running_var + eps), computed by the caller).
template <class T>
void batch_norm_forward_stats(const T* x, T* y, int64_t N, int64_t C, int64_t S, const T* weight, const T* bias,
                              const double* mean, const double* invstd, int num_threads);

// Gradients (each output nullable: not computed). `training`: the statistics were the
// batch's own (their gradient flows into dx).
template <class T>
void batch_norm_backward(const T* gy, const T* x, T* gx, T* gweight, T* gbias, int64_t N, int64_t C, int64_t S,
                         const T* weight, const double* mean, const double* invstd, bool training, int num_threads);

// Layer norm over the last D elements of R rows: mean/rstd (R doubles each) saved;
// y = (x - mean) * rstd * weight + bias (weight, bias: D elements, nullable).
template <class T>
void layer_norm_forward(const T* x, T* y, int64_t R, int64_t D, const T* weight, const T* bias, double eps,
                        double* mean, double* rstd, int num_threads);
template <class T>
void layer_norm_backward(const T* gy, const T* x, T* gx, T* gweight, T* gbias, int64_t R, int64_t D, const T* weight,
                         const double* mean, const double* rstd, int num_threads);

// Local response norm across channels of (N, C, S), PyTorch's definition:
//   y[c] = x[c] / (k + alpha/size * sum_{c' = c - size/2}^{c + (size-1)/2} x[c']^2)^beta
// (channels outside [0, C) count as 0; the sum is divided by `size` always).
template <class T>
void local_response_norm_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                                 double beta, double k, int num_threads);
template <class T>
void local_response_norm_backward(const T* gy, const T* x, T* gx, int64_t N, int64_t C, int64_t S, int64_t size,
                                  double alpha, double beta, double k, int num_threads);

}  // namespace pyfastnn
