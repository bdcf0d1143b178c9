// Elementwise activation functions: forward and backward, float32 (SIMD, chosen at run
// time like GEMM) and float64 (libm, accurate), one pass each, OpenMP on large arrays.
//
// Every kind takes two scalar parameters, `alpha` and `beta`, whose meaning depends on the
// kind (unused ones are ignored):
//
//   kind         forward y(x)                                  alpha            beta       backward reads
//   relu         max(x, 0)                                     -                -          y (or x)
//   relu6        min(max(x, 0), 6)                             -                -          y (or x)
//   hardtanh     min(max(x, alpha), beta)                      min_val          max_val    y (or x)
//   leaky_relu   x > 0 ? x : alpha x                           negative_slope   -          y (or x); x if alpha < 0
//   elu          x > 0 ? x : alpha (e^x - 1)                   alpha            -          y (or x); x if alpha < 0
//   selu         scale * elu(x, 1.6732632...)                  -                -          y (or x)
//   gelu         x Phi(x) (Phi: the standard normal CDF)       -                -          x
//   gelu_tanh    x / 2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) -              -          x
//   silu         x sigmoid(x)                                  -                -          x
//   sigmoid      1 / (1 + e^-x)                                -                -          y
//   tanh         tanh(x)                                       -                -          y
//   softplus     alpha x > beta ? x : log(1 + e^(alpha x)) / alpha  beta       threshold  x
//   hardswish    x min(max(x + 3, 0), 6) / 6                   -                -          x
//   hardsigmoid  min(max(x + 3, 0), 6) / 6                     -                -          y
//
// "Backward reads" is what an autograd Function must keep from the forward pass: the
// output y where it suffices (so the input can be freed), else the input x. Where both are
// listed either may be given (the backward formula is the same, or `x` is preferred when
// both are given). Derivatives at kinks and at NaN follow PyTorch's vectorized kernels:
// relu'(0) = 0, hardtanh' = 0 at both ends, leaky_relu'(0) = alpha, elu'(0) = alpha,
// hardswish'(-3) = 0 and hardswish'(3) = 1; at x = NaN, relu passes the gradient, hardtanh,
// relu6 and hardsigmoid give 0, leaky_relu gives alpha gy, the others NaN.
//
// PReLU: y = x > 0 ? x : w[c] x with c the channel (dimension 1 of an N-D input) or one
// weight for every element; its backward also returns dL/dw.
#pragma once
#include <cstdint>

namespace pyfastnn {

enum class Act : int {
  relu = 0,
  relu6,
  hardtanh,
  leaky_relu,
  elu,
  selu,
  gelu,
  gelu_tanh,
  silu,
  sigmoid,
  tanh,
  softplus,
  hardswish,
  hardsigmoid,
  count
};

// What a backward pass reads besides the output gradient.
enum class ActInput : int { x = 0, y = 1, either = 2 };

const char* act_name(Act kind);
bool act_from_name(const char* name, Act* out);  // false for an unknown name
// What the backward of `kind` with parameter alpha accepts (see the table above).
ActInput act_backward_input(Act kind, double alpha);

// SELU's constants (PyTorch's, to double precision).
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// y[i] = f(x[i]) for i < n. y may alias x (in place).
void activation_forward(Act kind, const float* x, float* y, int64_t n, double alpha, double beta, int num_threads);
void activation_forward(Act kind, const double* x, double* y, int64_t n, double alpha, double beta, int num_threads);

// gx[i] = gy[i] * f'(x[i]), computed from v = x (from_y false) or v = y (from_y true), as
// act_backward_input allows. gx may alias gy.
void activation_backward(Act kind, bool from_y, const float* v, const float* gy, float* gx, int64_t n, double alpha,
                         double beta, int num_threads);
void activation_backward(Act kind, bool from_y, const double* v, const double* gy, double* gx, int64_t n,
                         double alpha, double beta, int num_threads);

// PReLU on x seen as (outer, channels, inner) (C-contiguous); w has `channels` entries.
// One shared weight: channels = 1, inner = all elements.
template <class T>
struct PreluArgs {
  const T* x = nullptr;
  const T* w = nullptr;
  int64_t outer = 0, channels = 1, inner = 0;
};
void prelu_forward(const PreluArgs<float>& a, float* y, int num_threads);
void prelu_forward(const PreluArgs<double>& a, double* y, int num_threads);
// gx = x > 0 ? gy : w gy (gx may be null: not wanted); gw[c] = sum of x gy over channel c
// where x <= 0 (gw may be null), accumulated in double.
void prelu_backward(const PreluArgs<float>& a, const float* gy, float* gx, float* gw, int num_threads);
void prelu_backward(const PreluArgs<double>& a, const double* gy, double* gx, double* gw, int num_threads);

}  // namespace pyfastnn
