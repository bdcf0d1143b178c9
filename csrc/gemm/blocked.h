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

#include "gemm/microkernel.h"
#include "gemm/pack.h"
#include "gemm/simd.h"
#include "pyfastnn/gemm.h"
#include "pyfastnn/workspace.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Compile-time configuration of one kernel: vector traits, register tile, cache blocks.
template <class V_, int MR_, int NRV_, int MC_, int KC_, int NC_>
struct KernelConfig {
  using V = V_;
  using T = typename V::T;
  static constexpr int MR = MR_, NR = NRV_ * V::W, NRV = NRV_;
  static constexpr int64_t MC = MC_, KC = KC_, NC = NC_;
  static_assert(MC % MR == 0 && NC % NR == 0, "cache blocks must hold whole micro-panels");
};

// Splits an m x n block of C (tiles_m x tiles_n tiles) over `threads` as a tm x tn grid.
// Among the grids within 15% of the best per-thread share, the one with the squarest
// sub-blocks wins: it moves the least packed data between cores (a thread packs the A rows
// it uses; with tm > 1 every thread packs its own copy of the B columns it uses).
inline void thread_grid(int64_t m, int64_t n, int64_t tiles_m, int64_t tiles_n, int threads, int* tm, int* tn) {
  int64_t best = -1;
  for (int rows = 1; rows <= threads; ++rows)
    if (threads % rows == 0) {
      int64_t share = ceil_div(tiles_m, rows) * ceil_div(tiles_n, threads / rows);
      if (best < 0 || share < best) best = share;
    }
  double best_aspect = 0;
  *tm = 1;
  *tn = threads;
  for (int rows = 1; rows <= threads; ++rows) {
    if (threads % rows) continue;
    const int cols = threads / rows;
    if (ceil_div(tiles_m, rows) * ceil_div(tiles_n, cols) * 20 > best * 23) continue;
    const double h = double(m) / rows, w = double(n) / cols;
    const double aspect = h > w ? h / w : w / h;
    if (best_aspect == 0 || aspect < best_aspect) {
      best_aspect = aspect;
      *tm = rows;
      *tn = cols;
    }
  }
}

template <class Cfg>
void gemm_blocked(const GemmArgs<typename Cfg::T>& g, int num_threads) {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  constexpr int MR = Cfg::MR, NR = Cfg::NR, NRV = Cfg::NRV;
  constexpr int64_t MC = Cfg::MC, KC = Cfg::KC, NC = Cfg::NC;
  static constexpr MicroKernelTable<V, MR, NRV, ALayout::row_major> row_kernels;
  static constexpr MicroKernelTable<V, MR, NRV, ALayout::k_major> kmajor_kernels;
  const auto& kernels = g.trans_a ? kmajor_kernels.fn : row_kernels.fn;
  const int64_t M = g.m, N = g.n, K = g.k;

  // A row-major A is read in place (the kernels take its row stride): packing it would be
  // a full extra pass over A. Unless its rows are a multiple of 4 KiB apart: then the MR
  // rows of a micro-panel would all compete for the same L1 sets.
  const bool pack_a = g.trans_a || (g.lda * int64_t(sizeof(T))) % 4096 == 0;
  const int64_t kc_max = min64(KC, K);
  T* a_block = pack_a ? thread_workspace_as<T>(WorkspaceSlot::gemm_a, ceil_div(min64(MC, M), MR) * MR * kc_max)
                      : nullptr;
  const int64_t n_tiles = ceil_div(N, NR);

#pragma omp parallel num_threads(num_threads) if (num_threads > 1)
  {
    const int tid = omp_get_thread_num(), nthreads = omp_get_num_threads();
    T* b_block = thread_workspace_as<T>(WorkspaceSlot::gemm_b, ceil_div(min64(NC, N), NR) * NR * kc_max);

    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = min64(MC, M - ic), m_tiles = ceil_div(mc, MR);
      int tm = 1, tn = 1;
      thread_grid(mc, N, m_tiles, n_tiles, nthreads, &tm, &tn);
      const int row = tid / tn, col = tid % tn;
      const int64_t mt0 = m_tiles * row / tm, mt1 = m_tiles * (row + 1) / tm;
      const int64_t n0 = n_tiles * col / tn * NR, n1 = min64(n_tiles * (col + 1) / tn * NR, N);

      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = min64(KC, K - pc);
        const T beta = pc == 0 ? g.beta : T(1);
        const T* a_src = g.trans_a ? g.a + pc * g.lda + ic : g.a + ic * g.lda + pc;
        if (pack_a) {
#pragma omp for schedule(static)
          for (int64_t t = 0; t < m_tiles; ++t) {
            const T* src = g.trans_a ? a_src + t * MR : a_src + t * MR * g.lda;
            pack_a_panel<T, MR>(g.trans_a, src, g.lda, static_cast<int>(min64(MR, mc - t * MR)), kc,
                                a_block + t * MR * kc);
          }  // implicit barrier: the A block is complete
        }
        const int64_t a_rs = pack_a ? kc : g.lda;

        for (int64_t jc = n0; jc < n1; jc += NC) {
          const int64_t nc = min64(NC, n1 - jc), nc_tiles = ceil_div(nc, NR);
          pack_b_block<T, NR>(g.trans_b, g.trans_b ? g.b + jc * g.ldb + pc : g.b + pc * g.ldb + jc, g.ldb, nc, kc,
                              b_block);
          for (int64_t mt = mt0; mt < mt1; ++mt) {
            const int64_t i = mt * MR;
            const int rows = static_cast<int>(min64(MR, mc - i));
            const T* a_panel = pack_a ? a_block + mt * MR * kc : a_src + i * g.lda;
            for (int64_t t = 0; t < nc_tiles; ++t) {
              const int64_t j = jc + t * NR;
              const int cols = static_cast<int>(min64(NR, N - j));
              kernels[rows - 1][(cols - 1) / V::W](kc, a_panel, a_rs, b_block + t * NR * kc,
                                                  g.c + (ic + i) * g.ldc + j, g.ldc, g.alpha, beta, cols);
            }
          }
        }
        if (pack_a) {
#pragma omp barrier  // nobody repacks the A block while another thread still reads it
        }
      }
    }
  }
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
