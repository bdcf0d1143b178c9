// Thin vector traits the GEMM micro-kernel is written against: one register type R of W
// lanes of T and the handful of operations the kernel and its epilogue need. Which traits
// exist depends on the flags of the translation unit including this header (CMakeLists.txt).
#pragma once
#include <cstdint>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#ifndef PYFASTNN_ISA_NS
#error "include simd.h from an ISA translation unit that defines PYFASTNN_ISA_NS"
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

// Generic vectors (GCC/Clang vector extensions): used by the portable kernels, and with
// W = 16 to run the AVX-512 tile shape on any machine.
template <class T_, int W_>
struct VecExt {
  using T = T_;
  static constexpr int W = W_;
  typedef T R __attribute__((vector_size(sizeof(T) * W_)));
  typedef T RU __attribute__((vector_size(sizeof(T) * W_), aligned(sizeof(T))));
  static R zero() { return R{}; }
  static R load(const T* p) { return *reinterpret_cast<const R*>(p); }
  static R loadu(const T* p) { return *reinterpret_cast<const RU*>(p); }
  static void store(T* p, R v) { *reinterpret_cast<R*>(p) = v; }
  static void storeu(T* p, R v) { *reinterpret_cast<RU*>(p) = v; }
  static R set1(T x) { return R{} + x; }
  static R bcast(const T* p) { return R{} + *p; }
  static R fma(R a, R b, R c) { return a * b + c; }
  static R mul(R a, R b) { return a * b; }
  static R add(R a, R b) { return a + b; }
  static R relu(R v) { return v < R{} ? R{} : v; }  // max(v, 0); NaN stays NaN
};

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2F32 {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_load_ps(p); }
  static R loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, R v) { _mm256_store_ps(p, v); }
  static void storeu(T* p, R v) { _mm256_storeu_ps(p, v); }
  static R set1(T x) { return _mm256_set1_ps(x); }
  static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  // max(v, 0): when an operand is NaN, MAXPS returns the second one, so NaN stays NaN
  static R relu(R v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
};

struct Avx2F64 {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_load_pd(p); }
  static R loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, R v) { _mm256_store_pd(p, v); }
  static void storeu(T* p, R v) { _mm256_storeu_pd(p, v); }
  static R set1(T x) { return _mm256_set1_pd(x); }
  static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static R relu(R v) { return _mm256_max_pd(_mm256_setzero_pd(), v); }
};
#endif

#if defined(__AVX512F__)
struct Avx512F32 {
  using T = float;
  using R = __m512;
  static constexpr int W = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_load_ps(p); }
  static R loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, R v) { _mm512_store_ps(p, v); }
  static void storeu(T* p, R v) { _mm512_storeu_ps(p, v); }
  static R set1(T x) { return _mm512_set1_ps(x); }
  static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R relu(R v) { return _mm512_max_ps(_mm512_setzero_ps(), v); }
};

struct Avx512F64 {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_load_pd(p); }
  static R loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, R v) { _mm512_store_pd(p, v); }
  static void storeu(T* p, R v) { _mm512_storeu_pd(p, v); }
  static R set1(T x) { return _mm512_set1_pd(x); }
  static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R relu(R v) { return _mm512_max_pd(_mm512_setzero_pd(), v); }
};
#endif

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
