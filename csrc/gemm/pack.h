// Packing of GEMM operands into the micro-panel layouts the micro-kernel reads.
#pragma once
#include <cstdint>
#include <cstring>

#include "gemm/simd.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

// Micro-panels [t0, t1) of an mc x kc block of op(A) (a points at its top-left element),
// panel t at dst + t * pitch (pitch >= MR * ld_panel + 16). Rows past mc are left unwritten:
// the kernels for edge tiles never read them.
// Not transposed: row copies, row r of a panel at r * ld_panel.
// Transposed (A stored k x m): k-major runs of MR; each stored row is read once, front to
// back, and dealt out to the panels.
template <class T, int MR>
void pack_a_panels(bool trans, const T* a, int64_t lda, int64_t mc, int64_t kc, int64_t t0, int64_t t1,
                   int64_t ld_panel, int64_t pitch, T* __restrict dst) {
  if (!trans) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t rows = mc - t * MR < MR ? mc - t * MR : MR;
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + t * pitch + r * ld_panel, a + (t * MR + r) * lda, sizeof(T) * kc);
    }
    return;
  }
  // Copies of CP >= MR values move whole vectors; the extra values land where the next k
  // writes next (or in the panel's slack after the last k).
  constexpr int64_t CP = (MR + 3) / 4 * 4;
  const int64_t full_end = mc / MR < t1 ? mc / MR : t1;  // panels [t0, full_end) have MR rows
  for (int64_t p = 0; p < kc; ++p) {
    const T* src = a + p * lda;
    T* d = dst + p * MR;
    int64_t t = t0;
    for (; t < full_end && t * MR + CP <= mc; ++t) std::memcpy(d + t * pitch, src + t * MR, sizeof(T) * CP);
    for (; t < full_end; ++t) std::memcpy(d + t * pitch, src + t * MR, sizeof(T) * MR);
    for (; t < t1; ++t)
      for (int64_t r = 0; r < mc - t * MR; ++r) d[t * pitch + r] = src[t * MR + r];
  }
}

#if defined(__AVX2__)
// dst[q * ld_dst + j] = src[j * ld_src + q] for an 8 x 8 float block.
inline void transpose8x8(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * ld_src), r1 = _mm256_loadu_ps(src + 1 * ld_src);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ld_src), r3 = _mm256_loadu_ps(src + 3 * ld_src);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ld_src), r5 = _mm256_loadu_ps(src + 5 * ld_src);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ld_src), r7 = _mm256_loadu_ps(src + 7 * ld_src);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * ld_dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * ld_dst, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld_dst, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld_dst, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld_dst, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld_dst, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld_dst, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld_dst, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// The same for a 4 x 4 double block.
inline void transpose4x4(const double* src, int64_t ld_src, double* dst, int64_t ld_dst) {
  __m256d r0 = _mm256_loadu_pd(src + 0 * ld_src), r1 = _mm256_loadu_pd(src + 1 * ld_src);
  __m256d r2 = _mm256_loadu_pd(src + 2 * ld_src), r3 = _mm256_loadu_pd(src + 3 * ld_src);
  __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_storeu_pd(dst + 0 * ld_dst, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(dst + 1 * ld_dst, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(dst + 2 * ld_dst, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(dst + 3 * ld_dst, _mm256_permute2f128_pd(t1, t3, 0x31));
}

template <class T>
struct Transpose;
template <>
struct Transpose<float> {
  static constexpr int S = 8;
  static void block(const float* s, int64_t ls, float* d, int64_t ld) { transpose8x8(s, ls, d, ld); }
};
template <>
struct Transpose<double> {
  static constexpr int S = 4;
  static void block(const double* s, int64_t ls, double* d, int64_t ld) { transpose4x4(s, ls, d, ld); }
};
#endif

// One transposed micro-panel: B stored n x k, element (p, j) of op(B) at b[j * ldb + p].
template <class T, int NR>
void pack_bt_panel(const T* b, int64_t ldb, int cols, int64_t kc, T* __restrict dst) {
  int64_t p0 = 0;
#if defined(__AVX2__)
  constexpr int S = Transpose<T>::S;
  if constexpr (NR % S == 0) {
    if (cols == NR) {
      for (; p0 + S <= kc; p0 += S)
        for (int j = 0; j < NR; j += S) Transpose<T>::block(b + j * ldb + p0, ldb, dst + p0 * NR + j, NR);
    }
  }
#endif
  for (int64_t p = p0; p < kc; ++p) {
    T* d = dst + p * NR;
    for (int j = 0; j < cols; ++j) d[j] = b[j * ldb + p];
    for (int j = cols; j < NR; ++j) d[j] = T(0);
  }
}

// kc rows and nc columns of op(B) as consecutive micro-panels of kc runs of NR values
// (columns past nc zero). Not transposed: each row of B is read once, front to back, and
// dealt out to the panels. Transposed (B stored n x k): a transpose per panel, in square
// register blocks where the ISA has them.
template <class T, int NR>
void pack_b_block(bool trans, const T* b, int64_t ldb, int64_t nc, int64_t kc, T* __restrict dst) {
  const int64_t full = nc / NR, rest = nc - full * NR;
  if (trans) {
    for (int64_t t = 0; t * NR < nc; ++t)
      pack_bt_panel<T, NR>(b + t * NR * ldb, ldb, static_cast<int>(t < full ? NR : rest), kc, dst + t * NR * kc);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    const T* src = b + p * ldb;
    for (int64_t t = 0; t < full; ++t)  // fixed-size copies compile to vector moves
      std::memcpy(dst + (t * kc + p) * NR, src + t * NR, sizeof(T) * NR);
    if (rest) {
      T* d = dst + (full * kc + p) * NR;
      for (int j = 0; j < rest; ++j) d[j] = src[full * NR + j];
      for (int j = static_cast<int>(rest); j < NR; ++j) d[j] = T(0);
    }
  }
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
