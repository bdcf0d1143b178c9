// The activation functions and their derivatives on one value, for the elementwise kernels
// and the GEMM epilogue. Definitions, kinks and NaN behaviour follow
// pyfastnn/backends/reference/activation.py (comparisons are written so that NaN takes the
// same branch as there).
#pragma once
#include "common.cuh"
#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {
namespace act {

// float and double overloads of the math the activations use
__device__ __forceinline__ float ex(float x) { return expf(x); }
__device__ __forceinline__ double ex(double x) { return exp(x); }
__device__ __forceinline__ float exm1(float x) { return expm1f(x); }
__device__ __forceinline__ double exm1(double x) { return expm1(x); }
__device__ __forceinline__ float lg1p(float x) { return log1pf(x); }
__device__ __forceinline__ double lg1p(double x) { return log1p(x); }
__device__ __forceinline__ float th(float x) { return tanhf(x); }
__device__ __forceinline__ double th(double x) { return tanh(x); }
__device__ __forceinline__ float erfc_(float x) { return erfcf(x); }
__device__ __forceinline__ double erfc_(double x) { return erfc(x); }
__device__ __forceinline__ float abs_(float x) { return fabsf(x); }
__device__ __forceinline__ double abs_(double x) { return fabs(x); }

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kGeluK = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluC = 0.044715;
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <class T>
__device__ __forceinline__ T sigmoid(T z) {
  return T(1) / (T(1) + ex(-z));
}

// min(max(v, lo), hi) keeping NaN (fminf/fmaxf would drop it)
template <class T>
__device__ __forceinline__ T clamp_keep_nan(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

template <class T>
__device__ __forceinline__ T normal_cdf(T v) {
  return T(0.5) * erfc_(-v * T(kInvSqrt2));
}

template <class T>
__device__ __forceinline__ T forward(ActKind kind, T v, T a, T b) {
  switch (kind) {
    case ActKind::relu: return v < T(0) ? T(0) : v;
    case ActKind::relu6: return clamp_keep_nan(v, T(0), T(6));
    case ActKind::hardtanh: return clamp_keep_nan(v, a, b);
    case ActKind::leaky_relu: return v > T(0) ? v : v * a;
    case ActKind::elu: return v > T(0) ? v : a * exm1(v);
    case ActKind::selu: return T(kSeluScale) * (v > T(0) ? v : T(kSeluAlpha) * exm1(v));
    case ActKind::gelu: return v * normal_cdf(v);
    case ActKind::gelu_tanh: return v * sigmoid(T(2 * kGeluK) * (v + T(kGeluC) * v * v * v));
    case ActKind::silu: return v * sigmoid(v);
    case ActKind::sigmoid: return sigmoid(v);
    case ActKind::tanh: return th(v);
    case ActKind::softplus: {  // a: beta, b: threshold
      const T z = a * v;
      const T sp = ((z > T(0) ? z : T(0)) + lg1p(ex(-abs_(z)))) / a;
      return z > b ? v : sp;
    }
    case ActKind::hardswish: return v * clamp_keep_nan(v + T(3), T(0), T(6)) / T(6);
    case ActKind::hardsigmoid: return clamp_keep_nan(v + T(3), T(0), T(6)) / T(6);
    default: return v;  // none
  }
}

// f'(x) from v = x, or from v = y when from_y (only for the kinds whose output suffices)
template <class T>
__device__ __forceinline__ T derivative(ActKind kind, T v, bool from_y, T a, T b) {
  switch (kind) {
    case ActKind::relu: return v <= T(0) ? T(0) : T(1);
    case ActKind::relu6: return (v > T(0) && v < T(6)) ? T(1) : T(0);
    case ActKind::hardtanh: return (v > a && v < b) ? T(1) : T(0);
    case ActKind::leaky_relu: return v > T(0) ? T(1) : a;
    case ActKind::elu: return v > T(0) ? T(1) : (from_y ? v + a : a * ex(v));
    case ActKind::selu: {
      const T sa = T(kSeluScale * kSeluAlpha);
      return v > T(0) ? T(kSeluScale) : (from_y ? v + sa : sa * ex(v));
    }
    case ActKind::gelu: return normal_cdf(v) + v * T(kInvSqrt2Pi) * ex(T(-0.5) * v * v);
    case ActKind::gelu_tanh: {
      const T two_u = T(2 * kGeluK) * (v + T(kGeluC) * v * v * v);
      const T s = sigmoid(two_u), one_minus_s = sigmoid(-two_u);
      return s + v * s * one_minus_s * T(2 * kGeluK) * (T(1) + T(3 * kGeluC) * v * v);
    }
    case ActKind::silu: {
      const T s = sigmoid(v);
      return s + v * s * sigmoid(-v);
    }
    case ActKind::sigmoid: return v * (T(1) - v);
    case ActKind::tanh: return (T(1) - v) * (T(1) + v);
    case ActKind::softplus: {
      const T z = a * v;
      return z > b ? T(1) : sigmoid(z);
    }
    case ActKind::hardswish: return v <= T(-3) ? T(0) : (v >= T(3) ? T(1) : v / T(3) + T(0.5));
    case ActKind::hardsigmoid: return (v > T(0) && v < T(1)) ? T(1.0 / 6.0) : T(0);
    default: return T(1);  // none
  }
}

}  // namespace act
}  // namespace cuda
}  // namespace pyfastnn
