// Activation kernels: each kind's forward and derivative written once as scalar code over a
// type T, mapped over a range in `#pragma omp simd` loops. Compiled in one translation unit
// per instruction set (activation_{portable,avx2,avx512}.cpp, float32) and in activation.cpp
// (float64 on libm); activation.cpp splits the work between threads and picks the table.
#pragma once
#include <cstdint>

#include "pyfastnn/activation.h"

namespace pyfastnn {

// The float32 entry points each ISA translation unit provides: serial kernels over one
// range; activation.cpp does the threading.
struct ActKernelTable {
  void (*forward)(Act kind, const float* x, float* y, int64_t n, float alpha, float beta);
  void (*backward)(Act kind, bool from_y, const float* v, const float* gy, float* gx, int64_t n, float alpha,
                   float beta);
  // PReLU pieces: one slope for the whole range, or a slope per element (w[i]).
  void (*prelu_forward_scalar)(const float* x, float w, float* y, int64_t n);
  void (*prelu_forward_vector)(const float* x, const float* w, float* y, int64_t n);
  // gx (may be null) and the sum of x*gy over x <= 0 (returned / added into acc[i]).
  double (*prelu_backward_scalar)(const float* x, float w, const float* gy, float* gx, int64_t n);
  void (*prelu_backward_vector)(const float* x, const float* w, const float* gy, float* gx, double* acc, int64_t n);
};

extern const ActKernelTable act_kernels_portable;
#ifdef PYFASTNN_X86
extern const ActKernelTable act_kernels_avx2;
extern const ActKernelTable act_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
// GCC's partial redundancy elimination splits the clamps in act_math.h into constant paths
// and then duplicates what follows on each: a second division per vector in silu and
// gelu_tanh (2x slower), and softplus not vectorized at all. Off for the kernels (and the
// math they inline, included below).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-pre")
#define PYFASTNN_ACT_POP_OPTIONS
#endif
#include "activation/act_math.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace act {

template <class F, class T>
inline void map1(const T* x, T* y, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class F, class T>
inline void map2(const T* v, const T* gy, T* gx, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = f(v[i], gy[i]);
}

// ---- forward ----
template <class T>
void forward(Act kind, const T* x, T* y, int64_t n, T alpha, T beta) {
  using namespace actmath;
  const T zero = T(0), one = T(1);
  switch (kind) {
    case Act::relu:  // NaN passes through (x < 0 is false)
      return map1(x, y, n, [=](T v) { return v < zero ? zero : v; });
    case Act::relu6:
      alpha = zero;
      beta = T(6);
      [[fallthrough]];
    case Act::hardtanh:
      return map1(x, y, n, [=](T v) { return v < alpha ? alpha : (v > beta ? beta : v); });
    case Act::leaky_relu:
      return map1(x, y, n, [=](T v) { return v > zero ? v : v * alpha; });
    case Act::elu:
      return map1(x, y, n, [=](T v) { return v > zero ? v : alpha * expm1(v); });
    case Act::selu: {
      const T scale = T(kSeluScale), sa = T(kSeluScale * kSeluAlpha);
      return map1(x, y, n, [=](T v) { return v > zero ? scale * v : sa * expm1(v); });
    }
    case Act::gelu:
      return map1(x, y, n, [=](T v) { return v * normal_cdf(v); });
    case Act::gelu_tanh: {
      // x (1 + tanh u) / 2 = x sigmoid(2u) = x / (1 + e^-2u): no cancellation for x < 0
      const T k2 = T(2 * 0.797884560802865355879892119868763), c = T(0.044715);
      return map1(x, y, n, [=](T v) { return v / (one + exp_or_inf(-k2 * (v + c * v * v * v))); });
    }
    case Act::silu:
      return map1(x, y, n, [=](T v) { return v / (one + exp_or_inf(-v)); });
    case Act::sigmoid:
      return map1(x, y, n, [=](T v) { return sigmoid(v); });
    case Act::tanh:
      return map1(x, y, n, [=](T v) { return tanh(v); });
    case Act::softplus: {
      // log(1 + e^z) = max(z, 0) + log1p(e^-|z|), z = beta x; linear above the threshold
      const T b = alpha, threshold = beta, inv_b = one / alpha;
      return map1(x, y, n, [=](T v) {
        const T z = b * v;
        const T az = z < zero ? -z : z;
        const T sp = ((z > zero ? z : zero) + log1p_unit(exp(-az))) * inv_b;
        const T out = z > threshold ? v : sp;
        return v != v ? v : out;
      });
    }
    case Act::hardswish: {
      const T sixth = one / T(6);
      return map1(x, y, n, [=](T v) {
        T r = v + T(3);
        r = r < zero ? zero : r;
        r = r > T(6) ? T(6) : r;
        return v * r * sixth;
      });
    }
    case Act::hardsigmoid: {
      const T sixth = one / T(6);
      return map1(x, y, n, [=](T v) {
        T r = (v + T(3)) * sixth;  // not x/6 + 1/2: that cancels near -3
        r = r < zero ? zero : r;
        return r > one ? one : r;
      });
    }
    default:
      return;
  }
}

// ---- backward: gx = gy * f'(.) from v = x or v = y ----
template <class T>
void backward(Act kind, bool from_y, const T* v, const T* gy, T* gx, int64_t n, T alpha, T beta) {
  using namespace actmath;
  const T zero = T(0), one = T(1);
  switch (kind) {
    // The comparisons are those of PyTorch's vectorized kernels, so that NaN in x (or y)
    // gives the same gradient: relu passes gy, hardtanh stops it, most others give NaN.
    case Act::relu:  // relu(x) > 0 exactly where x > 0
      return map2(v, gy, gx, n, [=](T a, T g) { return a <= zero ? zero : g; });
    case Act::relu6:
      alpha = zero;
      beta = T(6);
      [[fallthrough]];
    case Act::hardtanh:  // open interval: 0 at both ends, as PyTorch; same test on x or y
      return map2(v, gy, gx, n, [=](T a, T g) { return (a > alpha && a < beta) ? g : zero; });
    case Act::leaky_relu:  // from y only for alpha >= 0, where y > 0 exactly where x > 0
      return map2(v, gy, gx, n, [=](T a, T g) { return a > zero ? g : g * alpha; });
    case Act::elu:
      if (from_y)  // y = alpha (e^x - 1) for x <= 0: f'(x) = alpha e^x = y + alpha
        return map2(v, gy, gx, n, [=](T a, T g) { return a > zero ? g : g * (a + alpha); });
      return map2(v, gy, gx, n, [=](T a, T g) { return a > zero ? g : g * (alpha * exp(a)); });
    case Act::selu: {
      const T scale = T(kSeluScale), sa = T(kSeluScale * kSeluAlpha);
      if (from_y) return map2(v, gy, gx, n, [=](T a, T g) { return a > zero ? g * scale : g * (a + sa); });
      return map2(v, gy, gx, n, [=](T a, T g) { return a > zero ? g * scale : g * (sa * exp(a)); });
    }
    case Act::gelu:  // Phi(x) + x phi(x)
      return map2(v, gy, gx, n, [=](T a, T g) {
        T cdf, pdf;
        normal_cdf_pdf(a, &cdf, &pdf);
        return g * (cdf + a * pdf);
      });
    case Act::gelu_tanh: {
      // s = sigmoid(2u): f = x s, f' = s + 2 x s (1 - s) u', 1 - s = e s with e = e^-2u
      // (1 where e overflows: then s = 0 and so is the whole derivative)
      const T k = T(0.797884560802865355879892119868763), c = T(0.044715), c3 = T(3 * 0.044715);
      const T inf = T(__builtin_inf());
      return map2(v, gy, gx, n, [=](T a, T g) {
        const T e = exp_or_inf(T(-2) * k * (a + c * a * a * a));
        const T s = one / (one + e);
        const T oms = e == inf ? one : e * s;
        return g * (s + T(2) * a * oms * s * k * (one + c3 * a * a));
      });
    }
    case Act::silu: {  // s + x s (1 - s), 1 - s = e s as above
      const T inf = T(__builtin_inf());
      return map2(v, gy, gx, n, [=](T a, T g) {
        const T e = exp_or_inf(-a);
        const T s = one / (one + e);
        const T oms = e == inf ? one : e * s;
        return g * (s + a * oms * s);
      });
    }
    case Act::sigmoid:
      return map2(v, gy, gx, n, [=](T a, T g) { return g * (a * (one - a)); });
    case Act::tanh:  // 1 - y^2 as (1 - y)(1 + y): no cancellation near |y| = 1 without FMA
      return map2(v, gy, gx, n, [=](T a, T g) { return g * ((one - a) * (one + a)); });
    case Act::softplus: {
      const T b = alpha, threshold = beta;
      return map2(v, gy, gx, n, [=](T a, T g) {
        const T z = b * a;
        return z > threshold ? g : g * sigmoid(z);
      });
    }
    case Act::hardswish: {  // x/3 + 1/2 inside (-3, 3), as (x + 3/2) / 3: exact 0 at -3/2
      const T third = one / T(3);
      return map2(v, gy, gx, n, [=](T a, T g) {
        const T d = a <= T(-3) ? zero : (a >= T(3) ? one : (a + T(1.5)) * third);
        return g * d;
      });
    }
    case Act::hardsigmoid: {
      const T sixth = one / T(6);
      return map2(v, gy, gx, n, [=](T a, T g) { return (a > zero && a < one) ? g * sixth : zero; });
    }
    default:
      return;
  }
}

// ---- PReLU pieces ----
template <class T>
void prelu_forward_scalar(const T* x, T w, T* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : w * x[i];
}

template <class T>
void prelu_forward_vector(const T* x, const T* w, T* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : w[i] * x[i];
}

template <class T>
double prelu_backward_scalar(const T* x, T w, const T* gy, T* gx, int64_t n) {
  if (gx) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : w * gy[i];
  }
  // blocks of 1024 summed in T (vector lanes), the blocks in double
  double total = 0.0;
  for (int64_t b = 0; b < n; b += 1024) {
    const int64_t e = b + 1024 < n ? b + 1024 : n;
    T s = T(0);
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; ++i) s += x[i] > T(0) ? T(0) : x[i] * gy[i];
    total += double(s);
  }
  return total;
}

template <class T>
void prelu_backward_vector(const T* x, const T* w, const T* gy, T* gx, double* acc, int64_t n) {
  if (gx) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : w[i] * gy[i];
  }
  if (acc) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) acc[i] += x[i] > T(0) ? 0.0 : double(x[i] * gy[i]);
  }
}

inline void forward_f32(Act kind, const float* x, float* y, int64_t n, float alpha, float beta) {
  forward<float>(kind, x, y, n, alpha, beta);
}
inline void backward_f32(Act kind, bool from_y, const float* v, const float* gy, float* gx, int64_t n, float alpha,
                         float beta) {
  backward<float>(kind, from_y, v, gy, gx, n, alpha, beta);
}

constexpr ActKernelTable make_table() {
  return ActKernelTable{&forward_f32,
                        &backward_f32,
                        &prelu_forward_scalar<float>,
                        &prelu_forward_vector<float>,
                        &prelu_backward_scalar<float>,
                        &prelu_backward_vector<float>};
}

}  // namespace act
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#ifdef PYFASTNN_ACT_POP_OPTIONS
#pragma GCC pop_options
#undef PYFASTNN_ACT_POP_OPTIONS
#endif
#endif  // PYFASTNN_ISA_NS
