// Normalization row kernels: the reductions (double accumulators) and the per-element
// transforms of batch norm and layer norm, written once as scalar `omp simd` loops over T
// and compiled per instruction set (norm_{portable,avx2,avx512}.cpp); norm.cpp does the
// threading and the per-channel / per-row arithmetic.
#pragma once
#include <cstdint>

namespace pyfastnn {

template <class T>
struct NormRowKernels {
  // s1 = sum(x - shift), s2 = sum((x - shift)^2) over n elements, in double.
  void (*sums)(const T* x, int64_t n, double shift, double* s1, double* s2);
  // sg = sum(g), sgx = sum(g * (x - mean)) in double; w (nullable): g = gy * w[i] instead of gy.
  void (*dot_sums)(const T* gy, const T* w, const T* x, int64_t n, double mean, double* sg, double* sgx);
  // y = (x - m) * a + b.
  void (*affine)(const T* x, T* y, int64_t n, T m, T a, T b);
  // out = a * g + c * (x - m) + d, g = gy (w null) or gy * w[i].
  void (*grad)(const T* gy, const T* w, const T* x, T* out, int64_t n, T a, T c, T m, T d);
  // y = (x - m) * r * w[i] + b[i] (w, b nullable: 1, 0).
  void (*ln_apply)(const T* x, T* y, int64_t n, T m, T r, const T* w, const T* b);
  // dw[i] += gy[i] * (x[i] - m) * r  (dw nullable), db[i] += gy[i]  (db nullable); double.
  void (*ln_cols)(const T* gy, const T* x, int64_t n, double m, double r, double* dw, double* db);
};

struct NormKernelTable {
  NormRowKernels<float> f32;
  NormRowKernels<double> f64;
};

extern const NormKernelTable norm_kernels_portable;
#ifdef PYFASTNN_X86
extern const NormKernelTable norm_kernels_avx2;
extern const NormKernelTable norm_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace norm_k {

template <class T>
void sums(const T* x, int64_t n, double shift, double* s1, double* s2) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]) - shift;
    a += v;
    b += v * v;
  }
  *s1 = a;
  *s2 = b;
}

template <class T>
void dot_sums(const T* gy, const T* w, const T* x, int64_t n, double mean, double* sg, double* sgx) {
  double a = 0, b = 0;
  if (w) {
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; ++i) {
      const double g = static_cast<double>(gy[i]) * static_cast<double>(w[i]);
      a += g;
      b += g * (static_cast<double>(x[i]) - mean);
    }
  } else {
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; ++i) {
      const double g = static_cast<double>(gy[i]);
      a += g;
      b += g * (static_cast<double>(x[i]) - mean);
    }
  }
  *sg = a;
  *sgx = b;
}

template <class T>
void affine(const T* x, T* y, int64_t n, T m, T a, T b) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * a + b;
}

template <class T>
void grad(const T* gy, const T* w, const T* x, T* out, int64_t n, T a, T c, T m, T d) {
  if (w) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = a * (gy[i] * w[i]) + c * (x[i] - m) + d;
  } else if (c == T(0) && d == T(0)) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = a * gy[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = a * gy[i] + c * (x[i] - m) + d;
  }
}

template <class T>
void ln_apply(const T* x, T* y, int64_t n, T m, T r, const T* w, const T* b) {
  if (w && b) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * r * w[i] + b[i];
  } else if (w) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * r * w[i];
  } else if (b) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * r + b[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * r;
  }
}

template <class T>
void ln_cols(const T* gy, const T* x, int64_t n, double m, double r, double* dw, double* db) {
  if (dw) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dw[i] += static_cast<double>(gy[i]) * ((static_cast<double>(x[i]) - m) * r);
  }
  if (db) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) db[i] += static_cast<double>(gy[i]);
  }
}

template <class T>
constexpr NormRowKernels<T> make_rows() {
  return {&sums<T>, &dot_sums<T>, &affine<T>, &grad<T>, &ln_apply<T>, &ln_cols<T>};
}

constexpr NormKernelTable make_table() { return {make_rows<float>(), make_rows<double>()}; }

}  // namespace norm_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
