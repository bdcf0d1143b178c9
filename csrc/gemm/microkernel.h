// The register-blocked GEMM micro-kernel, written against the vector traits of simd.h.
#pragma once
#include <cstdint>

#include "gemm/simd.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

// How an A micro-panel is laid out: row-major (element (r, p) at a[r * ld + p]) or k-major
// (a[p * ld + r]), either in A itself (a transposed A is k-major) or in a packed copy. The
// stride ld is the template argument LD, or the run-time argument a_ld when LD == 0 (read
// in place; row-major then costs a general register per row).
enum class ALayout { k_major, row_major };

// C[0:ROWS, 0:n] = alpha * (A_panel · B_panel) + beta * C for one tile: ROWS <= MR rows of
// A, COLSV <= NRV vectors of B (n <= COLSV * W columns are written). The B panel is kc
// rows of NR = NRV * W values, LDB apart (0: NR, a packed panel; else rows of a wider
// row-major block, read in place). The accumulators stay in registers for the whole k loop.
// Epilogue (the last K block only; otherwise bias is null and act 0): bias[0:n] is added
// to every row (null: none), then act (GemmActivation: 0 none, 1 relu).
template <class V, int MR, int NRV, int ROWS, int COLSV, ALayout LAYOUT, int LD, int LDB = 0>
__attribute__((noinline)) void micro_kernel(int64_t kc, const typename V::T* __restrict a, int64_t a_ld,
                                            const typename V::T* __restrict b, typename V::T* __restrict c,
                                            int64_t ldc, typename V::T alpha, typename V::T beta, int n,
                                            const typename V::T* __restrict bias, int act) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W, NR = NRV * W, BS = LDB > 0 ? LDB : NR;
  const int64_t ld = LD > 0 ? LD : a_ld;
  const int64_t rs = LAYOUT == ALayout::k_major ? 1 : ld;  // step to the next row of A
  const int64_t ks = LAYOUT == ALayout::k_major ? ld : 1;  // step to the next k

#pragma GCC unroll 32
  for (int r = 0; r < ROWS; ++r) {  // C is needed only at the end: start fetching it now
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + COLSV * W - 1, 1);
  }

  R acc[ROWS][COLSV];
#pragma GCC unroll 32
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < COLSV; ++j) acc[r][j] = V::zero();

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __builtin_prefetch(b + 16 * BS);  // the B panel streams from L2: ask for it early
    R bv[COLSV];
#pragma GCC unroll 8
    for (int j = 0; j < COLSV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 32
    for (int r = 0; r < ROWS; ++r) {
      R av = V::bcast(a + r * rs);
#pragma GCC unroll 8
      for (int j = 0; j < COLSV; ++j) acc[r][j] = V::fma(av, bv[j], acc[r][j]);
    }
    a += ks;
    b += BS;
  }

  const R va = V::set1(alpha);
  const bool epilogue = bias != nullptr || act != 0;
  if (n == COLSV * W && epilogue) {
    R vbias[COLSV];
#pragma GCC unroll 8
    for (int j = 0; j < COLSV; ++j) vbias[j] = bias ? V::loadu(bias + j * W) : V::zero();
    const R vb = V::set1(beta);
#pragma GCC unroll 32
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
      for (int j = 0; j < COLSV; ++j) {
        T* cp = c + r * ldc + j * W;
        R v = beta == T(0) ? V::mul(va, acc[r][j]) : V::fma(va, acc[r][j], V::mul(vb, V::loadu(cp)));
        v = V::add(v, vbias[j]);
        V::storeu(cp, act ? V::relu(v) : v);
      }
    return;
  }
  if (n == COLSV * W) {
    if (beta == T(0)) {
#pragma GCC unroll 32
      for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int j = 0; j < COLSV; ++j) V::storeu(c + r * ldc + j * W, V::mul(va, acc[r][j]));
    } else {
      const R vb = V::set1(beta);
#pragma GCC unroll 32
      for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
        for (int j = 0; j < COLSV; ++j) {
          T* cp = c + r * ldc + j * W;
          V::storeu(cp, V::fma(va, acc[r][j], V::mul(vb, V::loadu(cp))));
        }
    }
    return;
  }
  // Ragged right edge: spill the registers, then update only the n columns that exist.
  alignas(64) T tile[ROWS * COLSV * W];
#pragma GCC unroll 32
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < COLSV; ++j) V::store(tile + (r * COLSV + j) * W, V::mul(va, acc[r][j]));
  for (int r = 0; r < ROWS; ++r) {
    T* crow = c + r * ldc;
    const T* trow = tile + r * COLSV * W;
    if (beta == T(0))
      for (int j = 0; j < n; ++j) crow[j] = trow[j];
    else
      for (int j = 0; j < n; ++j) crow[j] = trow[j] + beta * crow[j];
    if (epilogue)
      for (int j = 0; j < n; ++j) {
        const T v = bias ? crow[j] + bias[j] : crow[j];
        crow[j] = act && v < T(0) ? T(0) : v;  // NaN stays NaN
      }
  }
}

// Table of micro-kernels indexed by [rows - 1][vectors - 1], so edge tiles compute only
// what exists instead of padding to the full MR x NR tile.
template <class V, int MR, int NRV, ALayout LAYOUT, int LD, int LDB = 0>
struct MicroKernelTable {
  using T = typename V::T;
  using Fn = void (*)(int64_t, const T*, int64_t, const T*, T*, int64_t, T, T, int, const T*, int);
  Fn fn[MR][NRV];

  template <int R, int C>
  static constexpr void fill(Fn (&f)[MR][NRV]) {
    f[R][C] = &micro_kernel<V, MR, NRV, R + 1, C + 1, LAYOUT, LD, LDB>;
    if constexpr (C + 1 < NRV)
      fill<R, C + 1>(f);
    else if constexpr (R + 1 < MR)
      fill<R + 1, 0>(f);
  }
  constexpr MicroKernelTable() : fn{} { fill<0, 0>(fn); }
};

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
