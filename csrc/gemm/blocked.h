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
  // Reading A in place takes a general register per row of the tile; past 8 rows the
  // kernel would spill them, so taller tiles always read packed copies.
  static constexpr bool DIRECT_A = MR <= 8;
};

// Block size <= `cap` (a multiple of `unit`) that cuts `extent` into equal blocks: 784 with
// a cap of 256 gives 4 x 196 rather than 3 x 256 + 16 (a thin last block wastes a pass).
inline int64_t balanced_block(int64_t extent, int64_t cap, int64_t unit) {
  if (extent <= cap) return extent;
  const int64_t blocks = ceil_div(extent, cap);
  const int64_t step = ceil_div(ceil_div(extent, blocks), unit) * unit;
  return step < cap ? step : cap;
}

// Splits an m x n block of C (tiles_m x tiles_n tiles) over `threads` as a tm x tn grid.
// Among the grids within 15% of the best per-thread share, the one with the squarest
// sub-blocks wins: it moves the least packed data between cores (a thread packs the A rows
// it uses; with tm > 1 every thread packs its own copy of the B columns it uses). Small
// products (`rows_first`) take a grid of rows alone when one is in that band: then no
// thread reads A rows another packed, so the threads never wait for each other, and on
// a product of a few dozen microseconds two barriers cost more than the squarer grid saves.
inline void thread_grid(int64_t m, int64_t n, int64_t tiles_m, int64_t tiles_n, int threads, bool rows_first, int* tm,
                        int* tn) {
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
    const double aspect = rows_first && cols == 1 ? 0.5 : h > w ? h / w : w / h;
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
  constexpr int LD_PANEL = static_cast<int>(Cfg::KC);  // row stride of packed A panels
  constexpr int64_t PITCH = MR * LD_PANEL + 16;         // packed A panels, with slack (pack.h)
  const int64_t M = g.m, N = g.n, K = g.k;
  const int64_t MC = balanced_block(M, Cfg::MC, MR), KC = balanced_block(K, Cfg::KC, 8);

  // A is read in place (the kernels take its stride) unless that is slow: packing it would
  // be a full extra pass over A. Rows a multiple of 4 KiB apart would all compete for the
  // same L1 sets, and reading a row-major A in place takes a general register per tile row.
  const bool aliased = (g.lda * int64_t(sizeof(T))) % 4096 == 0;
  // A transposed A read in place touches a cache line per k for MR values: that pays only
  // while few B panels reuse it; wider products pack it once instead.
  const bool direct_a = !aliased && (g.trans_a ? N <= 8 * NR : Cfg::DIRECT_A);
  using Fn = typename MicroKernelTable<V, MR, NRV, ALayout::k_major, MR>::Fn;
  const Fn(*kernels)[NRV] = nullptr;
  if (g.trans_a && direct_a) {
    static constexpr MicroKernelTable<V, MR, NRV, ALayout::k_major, 0> t;
    kernels = t.fn;
  } else if (g.trans_a) {
    static constexpr MicroKernelTable<V, MR, NRV, ALayout::k_major, MR> t;
    kernels = t.fn;
  } else if (!direct_a) {
    static constexpr MicroKernelTable<V, MR, NRV, ALayout::row_major, LD_PANEL> t;
    kernels = t.fn;
  } else if constexpr (Cfg::DIRECT_A) {
    static constexpr MicroKernelTable<V, MR, NRV, ALayout::row_major, 0> t;
    kernels = t.fn;
  }
  T* a_block = direct_a ? nullptr
                        : thread_workspace_as<T>(WorkspaceSlot::gemm_a, ceil_div(MC, MR) * PITCH);
  const int64_t n_tiles = ceil_div(N, NR);
  const bool small = M * N * K <= (int64_t(1) << 25);  // 2 x 256^3: well under a millisecond

#pragma omp parallel num_threads(num_threads) if (num_threads > 1)
  {
    const int tid = omp_get_thread_num(), nthreads = omp_get_num_threads();
    T* b_block = thread_workspace_as<T>(WorkspaceSlot::gemm_b, ceil_div(min64(Cfg::NC, N), NR) * NR * KC);

    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = min64(MC, M - ic), m_tiles = ceil_div(mc, MR);
      int tm = 1, tn = 1;
      thread_grid(mc, N, m_tiles, n_tiles, nthreads, small, &tm, &tn);
      // with a single column of threads each packs exactly the A panels it multiplies
      // (the same split as below), so no thread waits for another's packing
      const bool shared_a = !direct_a && tn > 1;
      const int row = tid / tn, col = tid % tn;
      const int64_t mt0 = m_tiles * row / tm, mt1 = m_tiles * (row + 1) / tm;
      const int64_t n0 = n_tiles * col / tn * NR, n1 = min64(n_tiles * (col + 1) / tn * NR, N);
      const int64_t NC = balanced_block(n1 - n0, Cfg::NC, NR);

      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = min64(KC, K - pc);
        const T beta = pc == 0 ? g.beta : T(1);
        const bool last = pc + kc >= K;  // the epilogue goes with the last K block's store
        const T* bias = last ? g.bias : nullptr;
        const int act = last ? static_cast<int>(g.act) : 0;
        const T* a_src = g.trans_a ? g.a + pc * g.lda + ic : g.a + ic * g.lda + pc;
        if (!direct_a) {  // all threads pack a share of the A block, then wait for the rest
          pack_a_panels<T, MR>(g.trans_a, a_src, g.lda, mc, kc, m_tiles * tid / nthreads,
                               m_tiles * (tid + 1) / nthreads, LD_PANEL, PITCH, a_block);
          if (shared_a) {
#pragma omp barrier
          }
        }

        for (int64_t jc = n0; jc < n1; jc += NC) {
          const int64_t nc = min64(NC, n1 - jc), nc_tiles = ceil_div(nc, NR);
          pack_b_block<T, NR>(g.trans_b, g.trans_b ? g.b + jc * g.ldb + pc : g.b + pc * g.ldb + jc, g.ldb, nc, kc,
                              b_block);
          for (int64_t mt = mt0; mt < mt1; ++mt) {
            const int64_t i = mt * MR;
            const int rows = static_cast<int>(min64(MR, mc - i));
            const T* a_panel = !direct_a ? a_block + mt * PITCH : g.trans_a ? a_src + i : a_src + i * g.lda;
            for (int64_t t = 0; t < nc_tiles; ++t) {
              const int64_t j = jc + t * NR;
              const int cols = static_cast<int>(min64(NR, N - j));
              kernels[rows - 1][(cols - 1) / V::W](kc, a_panel, g.lda, b_block + t * NR * kc,
                                                  g.c + (ic + i) * g.ldc + j, g.ldc, g.alpha, beta, cols,
                                                  bias ? bias + j : nullptr, act);
            }
          }
        }
        if (shared_a) {
#pragma omp barrier  // nobody repacks the A block while another thread still reads it
        }
      }
    }
  }
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
