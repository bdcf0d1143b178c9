// Dropout kernels over one range of the flat index: the counter-based mask of
// pyfastnn/dropout.h applied to an array. Compiled per instruction set
// (dropout_{portable,avx2,avx512}.cpp); dropout.cpp splits the work between threads.
// Every path computes the same bits as the scalar definition (tests compare them with the
// NumPy reference for every ISA).
#pragma once
#include <cstdint>

#include "pyfastnn/dropout.h"
#if defined(PYFASTNN_ISA_NS) && (defined(__AVX2__) || defined(__AVX512F__))
#include <immintrin.h>
#endif

namespace pyfastnn {

// Serial kernels over [begin, end) of the flat index: y[i - begin] for x[i - begin]
// (pointers at element `begin`). threshold < 2^32 (p = 1 is handled by the caller).
struct DropoutKernelTable {
  void (*apply_f32)(const float* x, float* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                    float scale);
  void (*apply_f64)(const double* x, double* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                    double scale);
};

extern const DropoutKernelTable dropout_kernels_portable;
#ifdef PYFASTNN_X86
extern const DropoutKernelTable dropout_kernels_avx2;
extern const DropoutKernelTable dropout_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace dropout_k {

// Everything a kernel calls lives in this per-ISA namespace: an inline function shared
// with another unit could be emitted with this unit's instructions and picked by the linker.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// u(i) of pyfastnn/dropout.h.
inline uint32_t draw(uint64_t key, int64_t i) {
  const uint64_t h = mix(key + static_cast<uint64_t>(i >> 1) * kDropoutGamma);
  return (i & 1) ? static_cast<uint32_t>(h >> 32) : static_cast<uint32_t>(h);
}

template <class T>
inline void apply_scalar(const T* x, T* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold, T scale) {
  for (int64_t i = begin; i < end; ++i) {
    const T v = x[i - begin];
    y[i - begin] = draw(key, i) >= threshold ? v * scale : T(0);
  }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
// 8 hashes h(j .. j+7) = mix(z) for z = key + (j + lane) G: 16 draws for elements 2j .. 2j+15.
inline __m512i mix8(__m512i z) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64(0xBF58476D1CE4E5B9ll));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64(0x94D049BB133111EBll));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

inline void apply_f32(const float* x, float* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                      float scale) {
  int64_t i = begin;
  if (i & 1) {  // vectors start at an even index (a whole hash)
    apply_scalar<float>(x, y, i, i + 1 < end ? i + 1 : end, key, threshold, scale);
    ++i;
  }
  const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gamma = _mm512_set1_epi64(static_cast<long long>(kDropoutGamma));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(8 * kDropoutGamma));
  const __m512i thr = _mm512_set1_epi32(static_cast<int>(threshold));
  const __m512 vs = _mm512_set1_ps(scale);
  __m512i z = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(key + static_cast<uint64_t>(i >> 1) * kDropoutGamma)),
                               _mm512_mullo_epi64(lanes, gamma));
  for (; i + 16 <= end; i += 16) {
    const __m512i u = mix8(z);
    const __mmask16 keep = _mm512_cmpge_epu32_mask(u, thr);
    _mm512_storeu_ps(y + (i - begin), _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(x + (i - begin)), vs));
    z = _mm512_add_epi64(z, step);
  }
  apply_scalar<float>(x + (i - begin), y + (i - begin), i, end, key, threshold, scale);
}
#elif defined(__AVX2__)
// a * c mod 2^64 per 64-bit lane (AVX2 has no 64-bit multiply): lo*lo + ((hi*lo + lo*hi) << 32).
inline __m256i mul64(__m256i a, __m256i c_lo, __m256i c_hi) {
  const __m256i lo = _mm256_mul_epu32(a, c_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo), _mm256_mul_epu32(a, c_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

inline __m256i mix4(__m256i z) {
  const __m256i m1_lo = _mm256_set1_epi64x(0x1CE4E5B9ll), m1_hi = _mm256_set1_epi64x(0xBF58476Dll);
  const __m256i m2_lo = _mm256_set1_epi64x(0x133111EBll), m2_hi = _mm256_set1_epi64x(0x94D049BBll);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), m1_lo, m1_hi);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), m2_lo, m2_hi);
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

inline void apply_f32(const float* x, float* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                      float scale) {
  int64_t i = begin;
  if (i & 1) {
    apply_scalar<float>(x, y, i, i + 1 < end ? i + 1 : end, key, threshold, scale);
    ++i;
  }
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  // u < threshold (unsigned) as a signed compare with both sides' sign bits flipped
  const __m256i thr = _mm256_xor_si256(_mm256_set1_epi32(static_cast<int>(threshold)), sign);
  const __m256 vs = _mm256_set1_ps(scale);
  const uint64_t z0 = key + static_cast<uint64_t>(i >> 1) * kDropoutGamma;
  __m256i z = _mm256_set_epi64x(static_cast<long long>(z0 + 3 * kDropoutGamma), static_cast<long long>(z0 + 2 * kDropoutGamma),
                                static_cast<long long>(z0 + kDropoutGamma), static_cast<long long>(z0));
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(4 * kDropoutGamma));
  for (; i + 8 <= end; i += 8) {
    const __m256i u = _mm256_xor_si256(mix4(z), sign);
    const __m256 drop = _mm256_castsi256_ps(_mm256_cmpgt_epi32(thr, u));
    _mm256_storeu_ps(y + (i - begin), _mm256_andnot_ps(drop, _mm256_mul_ps(_mm256_loadu_ps(x + (i - begin)), vs)));
    z = _mm256_add_epi64(z, step);
  }
  apply_scalar<float>(x + (i - begin), y + (i - begin), i, end, key, threshold, scale);
}
#else
inline void apply_f32(const float* x, float* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                      float scale) {
  apply_scalar<float>(x, y, begin, end, key, threshold, scale);
}
#endif

inline void apply_f64(const double* x, double* y, int64_t begin, int64_t end, uint64_t key, uint32_t threshold,
                      double scale) {
  apply_scalar<double>(x, y, begin, end, key, threshold, scale);
}

constexpr DropoutKernelTable make_table() { return {&apply_f32, &apply_f64}; }

}  // namespace dropout_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
