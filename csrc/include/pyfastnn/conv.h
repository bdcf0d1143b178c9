// 2-D convolution (cross-correlation, as PyTorch's conv2d), NCHW, with its backward pass and
// the transposed convolution.
//
// x is (N, C, H, W), weight (OC, C / groups, KH, KW), y (N, OC, OH, OW), every array dense
// and C-contiguous. Output pixel (oh, ow) of channel o in group g = o / (OC / groups) reads
//   x[n, g * C/groups + c, oh * stride_h - pad_h + ki * dil_h, ow * stride_w - pad_w + kj * dil_w]
// (zero outside the input) for c < C/groups, ki < KH, kj < KW. pad_h and pad_w are the top
// and left padding; oh and ow are given, so bottom/right padding (including TensorFlow's
// asymmetric 'same') is implied by them.
//
// Algorithms (ConvAlgo::automatic picks per shape):
//   implicit  implicit GEMM: the GEMM's micro-kernels fed by packing routines that read the
//             (zero-padded) input rows of a band of output rows directly, so no column
//             matrix is written; y starts as the bias, ReLU in the last K block's store.
//             Small images go several to a work unit (their pixels side by side).
//             Backward: dW^T += cols gz^T the same way; dx of a stride-1 convolution is the
//             forward convolution of gz with the flipped, transposed weights (other strides:
//             the im2col path's GEMM + col2im).
//   winograd  Winograd F(2x2, 3x3) for 3x3 kernels at stride 1, dilation 1, one group: 16
//             GEMMs (OC x C) x (C x tiles) on the GEMM's micro-kernels, over the transforms of
//             4x4 input patches, per chunk of 2x2-output tiles; 2.25x fewer multiply-adds
//             than the implicit GEMM. Backward: dx the same way (the flipped, transposed 3x3
//             kernel is again stride 1); dW as the adjoint, 16 GEMMs V · (A dY A^T)^T summed
//             over tiles, then G^T dU G.
//   im2col    columns (C/g * KH * KW) x (rows of output pixels) in a per-thread workspace,
//             built a band of output rows at a time so they stay in cache, fed to the GEMM;
//             the bias rides along as an extra row of ones (no pass over y), ReLU in the
//             GEMM's epilogue. Backward: dW += gz cols^T and dcols = W^T gz, then col2im.
//   gemm_1x1  1x1 kernels with stride 1 and no padding: the input itself is the column
//             matrix, plain GEMMs, no copies.
//   depthwise one input channel per group (C/groups == 1): direct SIMD kernels over whole
//             output rows; chosen up to a channel multiplier (OC/groups) of 3, the implicit
//             GEMM beyond (e.g. a first layer with one input channel and 32 filters).
// Threads: independent (image(s), group, row band) work units, one thread per unit with a
// single-threaded GEMM (no nested parallel regions); the implicit path cuts images into more
// bands when there are fewer images than threads, the im2col path then runs its units one
// after another on GEMMs that use every thread. Weight gradients add partial sums of fixed
// chunks of units in chunk order: for a given thread count, results do not depend on which
// thread ran what.
#pragma once
#include <cstdint>

#include "pyfastnn/gemm.h"

namespace pyfastnn {

enum class ConvAlgo : int { automatic = 0, im2col = 1, gemm_1x1 = 2, depthwise = 3, implicit = 4, winograd = 5 };

struct Conv2dGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input (N, C, H, W)
  int64_t oc = 0, kh = 1, kw = 1;      // weight (OC, C / groups, KH, KW)
  int64_t groups = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // top, left
  int64_t dil_h = 1, dil_w = 1;
  int64_t oh = 0, ow = 0;  // output (N, OC, OH, OW)
  ConvAlgo algo = ConvAlgo::automatic;
  int64_t band_rows = 0;  // output rows per im2col band; 0: chosen from the cache budget
};

// The algorithm `automatic` resolves to, and whether `algo` can run this geometry (gemm_1x1
// needs a 1x1 kernel, stride 1, no padding and oh == h, ow == w; depthwise C / groups == 1;
// winograd a 3x3 kernel, stride 1, dilation 1 and one group).
ConvAlgo conv2d_choose_algo(const Conv2dGeometry& g);
bool conv2d_algo_applies(const Conv2dGeometry& g, ConvAlgo algo);

// y = act(conv(x, weight) + bias); bias has OC values or is null; act none or relu.
void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* weight, const float* bias,
                    GemmActivation act, float* y, int num_threads);
void conv2d_forward(const Conv2dGeometry& g, const double* x, const double* weight, const double* bias,
                    GemmActivation act, double* y, int num_threads);

template <class T>
struct Conv2dGrads {
  T* dx = nullptr;  // (N, C, H, W); null: not wanted
  T* dw = nullptr;  // (OC, C / groups, KH, KW); null: not wanted
  T* db = nullptr;  // (OC); null: not wanted
};

// Given gy = dL/dy: gz = gy * act'(y) (y, the forward output, is read only for relu),
// db = sum of gz over (N, OH, OW), dw = correlation of gz with x, dx = the adjoint of the
// forward pass applied to gz. Gradients are overwritten, not accumulated.
void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* weight, const float* y, const float* gy,
                     GemmActivation act, const Conv2dGrads<float>& grads, int num_threads);
void conv2d_backward(const Conv2dGeometry& g, const double* x, const double* weight, const double* y,
                     const double* gy, GemmActivation act, const Conv2dGrads<double>& grads, int num_threads);

// dx = conv2d's backward-data of gy (N, OC, OH, OW), plus bias[c] (C values, or null) on
// every pixel of channel c: the forward pass of the transposed convolution whose input is
// gy and whose weight (in = OC, out / groups = C / groups, KH, KW) is `weight`.
void conv2d_backward_data(const Conv2dGeometry& g, const float* weight, const float* gy, const float* bias,
                          float* dx, int num_threads);
void conv2d_backward_data(const Conv2dGeometry& g, const double* weight, const double* gy, const double* bias,
                          double* dx, int num_threads);

// out[c] = sum of a[n, c, :] over n and the `inner` values of each (n, c) (float64 sums).
void channel_sums(const float* a, int64_t n, int64_t c, int64_t inner, float* out, int num_threads);
void channel_sums(const double* a, int64_t n, int64_t c, int64_t inner, double* out, int num_threads);

}  // namespace pyfastnn
