// BLIS-style blocked GEMM, written once against the vector traits of simd.h and compiled
// once per instruction set (each ISA unit defines PYFASTNN_ISA_NS, so the copies never
// collide at link time).
//
// Loop nest (row-major C, vectors run along n):
//   ic (MC rows of op(A), packed once per pc into a block shared by all threads, ~L3)
//    pc (KC deep)
//     jc (NC columns of op(B), packed per thread, ~L2)
//      ir (MR-row micro-panel of A, stays in L1 across the jr loop)
//       jr (NR-column micro-panel of B, streamed from L2)
//        micro-kernel: MR x NR tile of C in registers, KC rank-1 updates.
// Threads split the (ir, jr) tiles of each ic block into a tm x tn grid.
#pragma once
#include <omp.h>

#include <cstdint>
#include <cstring>

#include "gemm/simd.h"
#include "pyfastnn/gemm.h"
#include "pyfastnn/workspace.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// MR x NR tile: C[0:m, 0:n] = alpha * (a_panel · b_panel) + beta * C, with a_panel packed
// as kc columns of MR values and b_panel as kc rows of NR values (zero padded).
template <class V, int MR, int NRV>
__attribute__((noinline)) void micro_kernel(int64_t kc, const typename V::T* __restrict a,
                                            const typename V::T* __restrict b, typename V::T* __restrict c,
                                            int64_t ldc, typename V::T alpha, typename V::T beta, int m, int n) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W, NR = NRV * W;

  for (int r = 0; r < MR; ++r) {  // C is needed only at the end: start fetching it now
    if (r < m) {
      __builtin_prefetch(c + r * ldc, 1);
      __builtin_prefetch(c + r * ldc + NR - 1, 1);
    }
  }

  R acc[MR][NRV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < NRV; ++j) acc[r][j] = V::zero();

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    R bv[NRV];
#pragma GCC unroll 8
    for (int j = 0; j < NRV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      R av = V::bcast(a + r);
#pragma GCC unroll 8
      for (int j = 0; j < NRV; ++j) acc[r][j] = V::fma(av, bv[j], acc[r][j]);
    }
    a += MR;
    b += NR;
  }

  const R va = V::set1(alpha);
  if (m == MR && n == NR) {
    if (beta == T(0)) {
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int j = 0; j < NRV; ++j) V::storeu(c + r * ldc + j * W, V::mul(va, acc[r][j]));
    } else {
      const R vb = V::set1(beta);
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int j = 0; j < NRV; ++j) {
          T* cp = c + r * ldc + j * W;
          V::storeu(cp, V::fma(va, acc[r][j], V::mul(vb, V::loadu(cp))));
        }
    }
    return;
  }
  // Edge tile: spill the registers, then update only the m x n corner that exists.
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < NRV; ++j) V::store(tile + r * NR + j * W, V::mul(va, acc[r][j]));
  for (int r = 0; r < m; ++r) {
    T* crow = c + r * ldc;
    const T* trow = tile + r * NR;
    if (beta == T(0))
      for (int j = 0; j < n; ++j) crow[j] = trow[j];
    else
      for (int j = 0; j < n; ++j) crow[j] = trow[j] + beta * crow[j];
  }
}

// Packs rows [0, rows) x cols [0, kc) of op(A) (a points at its top-left element) into one
// micro-panel: kc groups of MR values, rows >= `rows` zero.
template <class T, int MR>
void pack_a_panel(bool trans, const T* a, int64_t lda, int rows, int64_t kc, T* __restrict dst) {
  if (trans) {  // op(A)[i][p] = a[p * lda + i]: each p is a contiguous run of rows
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = a + p * lda;
      T* d = dst + p * MR;
      if (rows == MR) {
        for (int r = 0; r < MR; ++r) d[r] = src[r];
      } else {
        for (int r = 0; r < rows; ++r) d[r] = src[r];
        for (int r = rows; r < MR; ++r) d[r] = T(0);
      }
    }
  } else {  // op(A)[i][p] = a[i * lda + p]: MR row streams read in step
    if (rows == MR) {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = a[r * lda + p];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int r = 0; r < rows; ++r) dst[p * MR + r] = a[r * lda + p];
        for (int r = rows; r < MR; ++r) dst[p * MR + r] = T(0);
      }
    }
  }
}

// Packs rows [0, kc) x cols [0, cols) of op(B) into one micro-panel: kc groups of NR
// values, cols >= `cols` zero.
template <class T, int NR>
void pack_b_panel(bool trans, const T* b, int64_t ldb, int cols, int64_t kc, T* __restrict dst) {
  if (!trans) {  // op(B)[p][j] = b[p * ldb + j]: rows are contiguous
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = b + p * ldb;
      T* d = dst + p * NR;
      if (cols == NR) {
        std::memcpy(d, src, sizeof(T) * NR);
      } else {
        for (int j = 0; j < cols; ++j) d[j] = src[j];
        for (int j = cols; j < NR; ++j) d[j] = T(0);
      }
    }
  } else {  // op(B)[p][j] = b[j * ldb + p]: NR column streams read in step
    if (cols == NR) {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = b[j * ldb + p];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int j = 0; j < cols; ++j) dst[p * NR + j] = b[j * ldb + p];
        for (int j = cols; j < NR; ++j) dst[p * NR + j] = T(0);
      }
    }
  }
}

// Compile-time configuration of one kernel: vector traits, register tile, cache blocks.
template <class V_, int MR_, int NRV_, int MC_, int KC_, int NC_>
struct KernelConfig {
  using V = V_;
  using T = typename V::T;
  static constexpr int MR = MR_, NR = NRV_ * V::W, NRV = NRV_;
  static constexpr int64_t MC = MC_, KC = KC_, NC = NC_;
  static_assert(MC % MR == 0 && NC % NR == 0, "cache blocks must hold whole micro-panels");
};

// Splits `tiles_m` x `tiles_n` tiles over `threads` as a tm x tn grid with the smallest
// per-thread share; ties go to more columns (no thread then packs the same B panel twice).
inline void thread_grid(int64_t tiles_m, int64_t tiles_n, int threads, int* tm, int* tn) {
  int64_t best = -1;
  for (int cols = threads; cols >= 1; --cols) {
    if (threads % cols) continue;
    int rows = threads / cols;
    int64_t share = ceil_div(tiles_m, rows) * ceil_div(tiles_n, cols);
    if (best < 0 || share < best) {
      best = share;
      *tm = rows;
      *tn = cols;
    }
  }
}

template <class Cfg>
void gemm_blocked(const GemmArgs<typename Cfg::T>& g, int num_threads) {
  using T = typename Cfg::T;
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  constexpr int64_t MC = Cfg::MC, KC = Cfg::KC, NC = Cfg::NC;
  const int64_t M = g.m, N = g.n, K = g.k;

  const int64_t kc_max = min64(KC, K);
  T* a_block = thread_workspace_as<T>(WorkspaceSlot::gemm_a, ceil_div(min64(MC, M), MR) * MR * kc_max);
  const int64_t n_tiles = ceil_div(N, NR);

#pragma omp parallel num_threads(num_threads) if (num_threads > 1)
  {
    const int tid = omp_get_thread_num(), nthreads = omp_get_num_threads();
    T* b_block = thread_workspace_as<T>(WorkspaceSlot::gemm_b, ceil_div(min64(NC, N), NR) * NR * kc_max);

    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = min64(MC, M - ic), m_tiles = ceil_div(mc, MR);
      int tm = 1, tn = 1;
      thread_grid(m_tiles, n_tiles, nthreads, &tm, &tn);
      const int row = tid / tn, col = tid % tn;
      const int64_t mt0 = m_tiles * row / tm, mt1 = m_tiles * (row + 1) / tm;
      const int64_t n0 = n_tiles * col / tn * NR, n1 = min64(n_tiles * (col + 1) / tn * NR, N);

      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = min64(KC, K - pc);
        const T beta = pc == 0 ? g.beta : T(1);
        const T* a_src = g.trans_a ? g.a + pc * g.lda + ic : g.a + ic * g.lda + pc;

#pragma omp for schedule(static)
        for (int64_t t = 0; t < m_tiles; ++t) {
          const T* src = g.trans_a ? a_src + t * MR : a_src + t * MR * g.lda;
          pack_a_panel<T, MR>(g.trans_a, src, g.lda, static_cast<int>(min64(MR, mc - t * MR)), kc,
                              a_block + t * MR * kc);
        }  // implicit barrier: the A block is complete

        for (int64_t jc = n0; jc < n1; jc += NC) {
          const int64_t nc = min64(NC, n1 - jc), nc_tiles = ceil_div(nc, NR);
          for (int64_t t = 0; t < nc_tiles; ++t) {
            const int64_t j = jc + t * NR;
            const T* src = g.trans_b ? g.b + j * g.ldb + pc : g.b + pc * g.ldb + j;
            pack_b_panel<T, NR>(g.trans_b, src, g.ldb, static_cast<int>(min64(NR, N - j)), kc, b_block + t * NR * kc);
          }
          for (int64_t mt = mt0; mt < mt1; ++mt) {
            const int64_t i = mt * MR;
            const int m = static_cast<int>(min64(MR, mc - i));
            for (int64_t t = 0; t < nc_tiles; ++t) {
              const int64_t j = jc + t * NR;
              micro_kernel<typename Cfg::V, MR, Cfg::NRV>(kc, a_block + mt * MR * kc, b_block + t * NR * kc,
                                                          g.c + (ic + i) * g.ldc + j, g.ldc, g.alpha, beta, m,
                                                          static_cast<int>(min64(NR, N - j)));
            }
          }
        }
#pragma omp barrier  // nobody repacks the A block while another thread still reads it
      }
    }
  }
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
