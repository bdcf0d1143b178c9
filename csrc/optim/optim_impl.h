// Update rules on one contiguous range of one tensor, compiled per ISA (see optim.cpp).
// Per-tensor scalars (bias corrections, decayed learning rates) are computed once by the
// caller; the loops are plain arithmetic in `omp simd` form so they vectorize.
#pragma once
#include <cmath>
#include <cstdint>

#include "optim/optim_table.h"

#ifndef PYFASTNN_ISA_NS
#error "define PYFASTNN_ISA_NS before including optim_impl.h"
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace optim_k {

// d = (maximize ? -g : g) + wd * p
template <class T>
static inline T grad_of(T g, T p, T wd, bool maximize) {
  return (maximize ? -g : g) + wd * p;
}

template <class T>
static void sgd(const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h) {
  T* __restrict p = t.param;
  const T* __restrict g = t.grad;
  T* __restrict buf = t.s0;
  const T lr = T(h.lr), wd = T(h.weight_decay), mom = T(h.momentum), damp = T(1 - h.dampening);
  const bool mx = h.maximize;
  if (!buf) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) p[i] -= lr * grad_of(g[i], p[i], wd, mx);
  } else if (t.first) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const T d = grad_of(g[i], p[i], wd, mx);
      buf[i] = d;
      p[i] -= lr * (h.nesterov ? d + mom * d : d);
    }
  } else {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const T d = grad_of(g[i], p[i], wd, mx);
      const T m = mom * buf[i] + damp * d;
      buf[i] = m;
      p[i] -= lr * (h.nesterov ? d + mom * m : m);
    }
  }
}

// s: a = lr / bias_correction1, b = 1 / sqrt(bias_correction2), c = 1 - lr * wd (decoupled)
template <class T>
static void adam(const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h, const OptimScalars& s) {
  T* __restrict p = t.param;
  const T* __restrict g = t.grad;
  T* __restrict m = t.s0;
  T* __restrict v = t.s1;
  T* __restrict vmax = t.s2;
  const T b1 = T(h.beta1), b2 = T(h.beta2), c1 = T(1 - h.beta1), c2 = T(1 - h.beta2), eps = T(h.eps);
  const T step_size = T(s.a), inv_sqrt_bc2 = T(s.b), keep = T(s.c);
  const T wd = h.decoupled ? T(0) : T(h.weight_decay);
  const bool mx = h.maximize;
  if (!h.amsgrad) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const T pi = p[i] * keep;
      const T d = grad_of(g[i], p[i], wd, mx);
      const T mi = b1 * m[i] + c1 * d;
      const T vi = b2 * v[i] + c2 * d * d;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
    }
  } else {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const T pi = p[i] * keep;
      const T d = grad_of(g[i], p[i], wd, mx);
      const T mi = b1 * m[i] + c1 * d;
      const T vi = b2 * v[i] + c2 * d * d;
      const T vm = vmax[i] > vi ? vmax[i] : vi;
      m[i] = mi;
      v[i] = vi;
      vmax[i] = vm;
      p[i] = pi - step_size * mi / (std::sqrt(vm) * inv_sqrt_bc2 + eps);
    }
  }
}

template <class T>
static void rmsprop(const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h) {
  T* __restrict p = t.param;
  const T* __restrict g = t.grad;
  T* __restrict sq = t.s0;
  T* __restrict buf = t.s1;
  T* __restrict ga = t.s2;
  const T al = T(h.alpha), c = T(1 - h.alpha), eps = T(h.eps), lr = T(h.lr), wd = T(h.weight_decay);
  const T mom = T(h.momentum);
  const bool mx = h.maximize;
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T d = grad_of(g[i], p[i], wd, mx);
    const T s = al * sq[i] + c * d * d;
    sq[i] = s;
    T avg;
    if (ga) {
      const T gi = al * ga[i] + c * d;
      ga[i] = gi;
      avg = std::sqrt(s - gi * gi) + eps;
    } else {
      avg = std::sqrt(s) + eps;
    }
    if (buf) {
      const T bi = mom * buf[i] + d / avg;
      buf[i] = bi;
      p[i] -= lr * bi;
    } else {
      p[i] -= lr * d / avg;
    }
  }
}

// s.a = lr / (1 + (step - 1) * lr_decay)
template <class T>
static void adagrad(const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h, const OptimScalars& s) {
  T* __restrict p = t.param;
  const T* __restrict g = t.grad;
  T* __restrict sum = t.s0;
  const T clr = T(s.a), eps = T(h.eps), wd = T(h.weight_decay);
  const bool mx = h.maximize;
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T d = grad_of(g[i], p[i], wd, mx);
    const T si = sum[i] + d * d;
    sum[i] = si;
    p[i] -= clr * d / (std::sqrt(si) + eps);
  }
}

template <class T>
static void adadelta(const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h) {
  T* __restrict p = t.param;
  const T* __restrict g = t.grad;
  T* __restrict sq = t.s0;
  T* __restrict acc = t.s1;
  const T rho = T(h.alpha), c = T(1 - h.alpha), eps = T(h.eps), lr = T(h.lr), wd = T(h.weight_decay);
  const bool mx = h.maximize;
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T d = grad_of(g[i], p[i], wd, mx);
    const T s = rho * sq[i] + c * d * d;
    sq[i] = s;
    const T delta = std::sqrt(acc[i] + eps) / std::sqrt(s + eps) * d;
    acc[i] = rho * acc[i] + c * delta * delta;
    p[i] -= lr * delta;
  }
}

template <class T>
void range(OptimKind kind, const OptimTensor<T>& t, int64_t b, int64_t e, const OptimHyper& h, const OptimScalars& s) {
  switch (kind) {
    case OptimKind::sgd:
      return sgd(t, b, e, h);
    case OptimKind::adam:
      return adam(t, b, e, h, s);
    case OptimKind::rmsprop:
      return rmsprop(t, b, e, h);
    case OptimKind::adagrad:
      return adagrad(t, b, e, h, s);
    case OptimKind::adadelta:
      return adadelta(t, b, e, h);
  }
}

constexpr OptimKernelTable make_table() { return {&range<float>, &range<double>}; }

}  // namespace optim_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
