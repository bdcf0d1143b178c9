// The per-ISA part of the recurrent layers: the fused cells (float on AVX2 / AVX-512 in
// explicit vectors, rnn_vcell.h; otherwise scalar code in `#pragma omp simd` loops over
// hidden units with sigmoid/tanh from activation/act_math.h), the per-step
// product with a weight matrix packed once per call (the GEMM's own micro-kernels reading
// the hidden state in place), and the time loops that run them, one team of threads per
// direction. Compiled once per instruction set (rnn_{portable,avx2,avx512}.cpp); rnn.cpp
// does the large GEMMs, allocation and thread teams, and picks the table.
//
// Work split inside a team: the hidden units are cut into NR-wide panels and thread k owns
// a contiguous run of them in every gate, so its cell has everything it reads (the gates of
// its units from its own slice of the step product) and one barrier per step suffices (two
// with a projection). Each thread packs only the weight panels it multiplies with.
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>

#include "pyfastnn/rnn.h"

namespace pyfastnn {

// A spinning barrier for a team of threads inside a larger OpenMP region (two directions
// run as two teams): a step is tens of microseconds, far below what sleeping would cost.
class RnnBarrier {
 public:
  explicit RnnBarrier(int n = 1) : n_(n) {}
  void reset(int n) {
    n_ = n;
    count_.store(0);
  }
  void wait() {
    if (n_ <= 1) return;
    const unsigned g = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.store(g + 1, std::memory_order_release);
      return;
    }
    for (long spins = 0; gen_.load(std::memory_order_acquire) == g; ++spins) {
      if (spins < 2000) {  // ~50 us; longer waits mean too few cores for our threads
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();  // oversubscribed: let the thread we wait for run
      }
    }
  }

 private:
  alignas(64) std::atomic<int> count_{0};
  alignas(64) std::atomic<unsigned> gen_{0};
  int n_;
};

// Everything one direction of one layer needs in its time loops. Row r of the T*B-row
// buffers (x's row order: t*B + b, or b*T + t when batch_first) holds step t of sequence b.
template <class T>
struct RnnDirPlan {
  int mode = 0;  // RnnMode
  int64_t steps = 0, batch = 0, hidden = 0, out = 0, proj = 0;  // T, B, H, Hout, P
  bool batch_first = false, reverse = false;
  const int64_t* lengths = nullptr;
  const T* w_hh = nullptr;  // (G H) x Hout
  int64_t ld_hh = 0;
  const T* w_hr = nullptr;  // P x H
  int64_t ld_hr = 0;
  const T* b_hn = nullptr;  // GRU: the n part of b_hh (H values), or null
  // forward: gates holds the input projections (x W_ih^T + biases) on entry and, when
  // `save`, the activated gates on exit
  T* gates = nullptr;
  const T* h0 = nullptr;  // B x Hout, or null
  const T* c0 = nullptr;  // B x H, or null
  T* y = nullptr;         // at this direction's first column; leading dimension ldy
  int64_t ldy = 0;
  T* hn = nullptr;
  T* cn = nullptr;
  bool save = false;
  T* hprev = nullptr;
  T* cprev = nullptr;
  T* ghn = nullptr;
  T* hraw = nullptr;
  // backward (gates, hprev, cprev, ghn, hraw as saved by forward)
  const T* dy = nullptr;  // like y, or null
  const T* dhn = nullptr;
  const T* dcn = nullptr;
  T* dg = nullptr;     // T*B x G H: d(pre-activation) on the input side
  T* dgh = nullptr;    // T*B x G H: on the hidden side (GRU; others: dg)
  T* dhout = nullptr;  // T*B x P: d(output) per step (projection)
  T* dh0 = nullptr;
  T* dc0 = nullptr;
  // bias gradients summed in the loop (each thread over its own units, in step order, so
  // the sums do not depend on the thread count): db_ih from dg; db_hh from dgh (GRU only:
  // elsewhere the two are equal). Null: not wanted.
  T* db_ih = nullptr;
  T* db_hh = nullptr;
  T* scratch = nullptr;  // the size the table's scratch_* asks for, 64-byte aligned
};

template <class T>
struct RnnLoopFns {
  int64_t (*scratch_forward)(const RnnDirPlan<T>&, int nt);  // elements of T
  int64_t (*scratch_backward)(const RnnDirPlan<T>&, int nt);
  int (*max_threads)(const RnnDirPlan<T>&);  // most threads a team can use (panels)
  void (*forward)(const RnnDirPlan<T>&, int tid, int nt, RnnBarrier& bar);
  void (*backward)(const RnnDirPlan<T>&, int tid, int nt, RnnBarrier& bar);
  // the fused cells over B contiguous rows (see rnn.h)
  void (*lstm_fwd)(int64_t B, int64_t H, const T* gx, const T* gh, const T* c, T* h, T* c_new, T* act);
  void (*lstm_bwd)(int64_t B, int64_t H, const T* act, const T* c, const T* dh, const T* dc_new, T* dgates, T* dc);
  void (*gru_fwd)(int64_t B, int64_t H, const T* gx, const T* gh, const T* h, T* h_new, T* act);
  void (*gru_bwd)(int64_t B, int64_t H, const T* act, const T* h, const T* dh_new, T* dgx, T* dgh, T* dh);
  void (*rnn_fwd)(int64_t B, int64_t H, bool relu, const T* gx, const T* gh, T* h);
  void (*rnn_bwd)(int64_t B, int64_t H, bool relu, const T* h, const T* dh, T* dpre);
};

struct RnnKernelTable {
  RnnLoopFns<float> f32;
  RnnLoopFns<double> f64;
};

extern const RnnKernelTable rnn_kernels_portable;
#ifdef PYFASTNN_X86
extern const RnnKernelTable rnn_kernels_avx2;
extern const RnnKernelTable rnn_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "activation/act_math.h"
#include "gemm/microkernel.h"
#include "gemm/pack.h"
#include "gemm/simd.h"
#if defined(__AVX2__) && defined(__FMA__)
#define PYFASTNN_RNN_VECTOR_CELLS 1  // float cells in explicit vectors (rnn_vcell.h)
#include "rnn/rnn_vcell.h"
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace rnn_k {

// ---------------------------------------------------------------- step product
// Register tiles: at most 8 rows so the kernels read the hidden state in place.
#if defined(__AVX512F__)
template <class T>
struct StepCfg;
template <>
struct StepCfg<float> {
  using V = Avx512F32;
  static constexpr int MR = 8, NRV = 2;
};
template <>
struct StepCfg<double> {
  using V = Avx512F64;
  static constexpr int MR = 8, NRV = 2;
};
#elif defined(__AVX2__) && defined(__FMA__)
template <class T>
struct StepCfg;
template <>
struct StepCfg<float> {
  using V = Avx2F32;
  static constexpr int MR = 6, NRV = 2;
};
template <>
struct StepCfg<double> {
  using V = Avx2F64;
  static constexpr int MR = 6, NRV = 2;
};
#else
template <class T>
struct StepCfg {
  using V = VecExt<T, 16 / sizeof(T)>;
  static constexpr int MR = 6, NRV = 2;
};
#endif

template <class T>
struct Step {
  using Cfg = StepCfg<T>;
  using V = typename Cfg::V;
  static constexpr int MR = Cfg::MR, NRV = Cfg::NRV, W = V::W, NR = NRV * V::W;
  static constexpr int64_t KC = 256;

  static int64_t panels(int64_t n) { return (n + NR - 1) / NR; }
  // elements of one packed K x N operand
  static int64_t packed_size(int64_t k, int64_t n) { return k * panels(n) * NR; }

  // Panels [p0, p1) of op(B) (K x N): trans: B stored N x K (element (k, n) at b[n ldb + k]);
  // otherwise K x N. Layout: k-block pc, panel p at dst + pc * panels(N) * NR + p * kc * NR.
  static void pack(bool trans, const T* b, int64_t ldb, int64_t k, int64_t n, int64_t p0, int64_t p1, T* dst) {
    if (p1 <= p0) return;
    const int64_t np = panels(n);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = k - pc < KC ? k - pc : KC;
      const int64_t j0 = p0 * NR, j1 = p1 * NR < n ? p1 * NR : n;
      const T* src = trans ? b + j0 * ldb + pc : b + pc * ldb + j0;
      pack_b_block<T, NR>(trans, src, ldb, j1 - j0, kc, dst + pc * np * NR + p0 * kc * NR);
    }
  }

  // C[0:RR, Q full panels] = A (RR rows, lda) * Q consecutive packed panels + beta C: for a
  // batch of 1 or 2. One panel of RR rows has only RR * NRV accumulator chains, each waiting
  // on its FMA latency; Q panels at once keep both FMA pipes busy.
  template <int RR, int Q>
  __attribute__((noinline)) static void thin(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc,
                                             T beta) {
    using RV = typename V::R;
    RV acc[RR][Q][NRV];
#pragma GCC unroll 32
    for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
        for (int v = 0; v < NRV; ++v) acc[r][q][v] = V::zero();
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; ++k) {
      RV av[RR];
#pragma GCC unroll 32
      for (int r = 0; r < RR; ++r) av[r] = V::bcast(a + r * lda + k);
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
        for (int v = 0; v < NRV; ++v) {
          const RV bv = V::load(b + q * kc * NR + k * NR + v * W);
#pragma GCC unroll 32
          for (int r = 0; r < RR; ++r) acc[r][q][v] = V::fma(av[r], bv, acc[r][q][v]);
        }
    }
    const RV vb = V::set1(beta);
#pragma GCC unroll 32
    for (int r = 0; r < RR; ++r)
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
        for (int v = 0; v < NRV; ++v) {
          T* cp = c + r * ldc + q * NR + v * W;
          V::storeu(cp, beta == T(0) ? acc[r][q][v] : V::fma(vb, V::loadu(cp), acc[r][q][v]));
        }
  }

  // Row tiles for m rows: MR-row tiles, except that a remainder of 1 to 3 rows is merged
  // with the last full tile and split evenly (2 rows left of 32: ..., 6, 4, 4), since a
  // tile of 1 or 2 rows runs at half speed or less. Returns the number of tiles.
  static int row_tiles(int64_t m, int64_t* start, int* rows) {
    int n = 0;
    int64_t i = 0;
    const int64_t left = m % MR;
    const int64_t plain = (left >= 1 && left <= 3 && m > MR) ? m - MR - left : m;
    for (; i < plain; i += MR) {
      start[n] = i;
      rows[n++] = static_cast<int>(plain - i < MR ? plain - i : MR);
    }
    if (plain < m) {
      const int64_t rest = m - plain, first = (rest + 1) / 2;
      start[n] = plain;
      rows[n++] = static_cast<int>(first);
      start[n] = plain + first;
      rows[n++] = static_cast<int>(rest - first);
    }
    return n;
  }

  // C[0:m, cols of panels p0..p1) = A (m x K, row-major, lda) * packed + beta C.
  static void gemm(int64_t m, const T* a, int64_t lda, const T* packed, int64_t k, int64_t n, int64_t p0, int64_t p1,
                   T* c, int64_t ldc, T beta) {
    static constexpr MicroKernelTable<V, MR, NRV, ALayout::row_major, 0> table{};
    const int64_t np = panels(n), full = n / NR;  // panels [0, full) have NR columns
    constexpr int kMaxTiles = 64;
    int64_t tile_start[kMaxTiles];
    int tile_rows[kMaxTiles];
    for (int64_t i0 = 0; i0 < m; i0 += (kMaxTiles - 2) * MR) {  // batches beyond ~370 rows: in chunks
      const int64_t mc = m - i0 < (kMaxTiles - 2) * MR ? m - i0 : (kMaxTiles - 2) * MR;
      const int tiles = row_tiles(mc, tile_start, tile_rows);
      const T* ai = a + i0 * lda;
      T* ci = c + i0 * ldc;
      for (int64_t pc = 0; pc < k; pc += KC) {
        const int64_t kc = k - pc < KC ? k - pc : KC;
        const T bt = pc == 0 ? beta : T(1);
        const T* base = packed + pc * np * NR;
        int64_t p = p0;
        if (mc <= 2) {  // a batch of 1 or 2: several full panels at once
          const int64_t stop = p1 < full ? p1 : full;
          if (mc == 1) {
            for (; p + 4 <= stop; p += 4) thin<1, 4>(kc, ai + pc, lda, base + p * kc * NR, ci + p * NR, ldc, bt);
            // a thread's share of a small layer may be 2 or 3 panels: still two at once
            for (; p + 2 <= stop; p += 2) thin<1, 2>(kc, ai + pc, lda, base + p * kc * NR, ci + p * NR, ldc, bt);
          } else {
            for (; p + 2 <= stop; p += 2) thin<2, 2>(kc, ai + pc, lda, base + p * kc * NR, ci + p * NR, ldc, bt);
          }
        }
        for (; p < p1; ++p) {
          const int64_t j = p * NR;
          const int cols = static_cast<int>(n - j < NR ? n - j : NR);
          for (int t = 0; t < tiles; ++t) {
            const int64_t i = tile_start[t];
            table.fn[tile_rows[t] - 1][(cols - 1) / W](kc, ai + i * lda + pc, lda, base + p * kc * NR, ci + i * ldc + j,
                                                       ldc, T(1), bt, cols, nullptr, 0);
          }
        }
      }
    }
  }
};

// A leading dimension for a scratch matrix with n columns: whole cache lines, and never a
// multiple of 4 KiB (rows read down a column would all land in the same L1 sets).
template <class T>
int64_t scratch_ld(int64_t n) {
  constexpr int64_t line = 64 / sizeof(T);
  int64_t ld = (n + line - 1) / line * line;
  if ((ld * int64_t(sizeof(T))) % 4096 == 0) ld += line;
  return ld > 0 ? ld : line;
}

inline int64_t round64(int64_t elems, int64_t size) { return (elems * size + 63) / 64 * 64 / size; }

// ---------------------------------------------------------------- fused cells
// Each works on one row over units [u0, u1); arrays are indexed by the unit (gate arrays
// by g * H + unit). In-place use (gates_out == gx, c_out == c) is allowed.
template <class T>
inline T sig(T x) {
  return actmath::sigmoid(x);
}
template <class T>
inline T tnh(T x) {
  return actmath::tanh(x);
}

// LSTM forward: act (4H, or null) gets i, f, g, o; cprev_out (or null) gets c.
template <class T>
inline void lstm_fwd_units(int64_t u0, int64_t u1, int64_t H, const T* gx, const T* gh, const T* c, T* c_out, T* h,
                           T* act, T* cprev_out) {
#ifdef PYFASTNN_RNN_VECTOR_CELLS
  if constexpr (std::is_same_v<T, float>) return rnn_vcell::lstm_fwd(u0, u1, H, gx, gh, c, c_out, h, act, cprev_out);
#endif
  if (act) {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T i = sig(gx[j] + gh[j]);
      const T f = sig(gx[H + j] + gh[H + j]);
      const T g = tnh(gx[2 * H + j] + gh[2 * H + j]);
      const T o = sig(gx[3 * H + j] + gh[3 * H + j]);
      const T cp = c[j];
      const T cn = f * cp + i * g;
      if (cprev_out) cprev_out[j] = cp;
      c_out[j] = cn;
      h[j] = o * tnh(cn);
      act[j] = i;
      act[H + j] = f;
      act[2 * H + j] = g;
      act[3 * H + j] = o;
    }
  } else {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T i = sig(gx[j] + gh[j]);
      const T f = sig(gx[H + j] + gh[H + j]);
      const T g = tnh(gx[2 * H + j] + gh[2 * H + j]);
      const T o = sig(gx[3 * H + j] + gh[3 * H + j]);
      const T cn = f * c[j] + i * g;
      c_out[j] = cn;
      h[j] = o * tnh(cn);
    }
  }
}

// LSTM backward: dh (total gradient of h), dc in: gradient of c' (may be null: 0), out
// (dc_out): gradient of c. dg1 and dg2 (may be null) both get d(pre-activations).
template <class T>
inline void lstm_bwd_units(int64_t u0, int64_t u1, int64_t H, const T* act, const T* c, const T* dh, const T* dc,
                           T* dc_out, T* dg1, T* dg2) {
#ifdef PYFASTNN_RNN_VECTOR_CELLS
  if constexpr (std::is_same_v<T, float>) return rnn_vcell::lstm_bwd(u0, u1, H, act, c, dh, dc, dc_out, dg1, dg2);
#endif
#pragma omp simd
  for (int64_t j = u0; j < u1; ++j) {
    const T i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
    const T cp = c[j];
    const T tc = tnh(f * cp + i * g);
    const T d = dh[j];
    const T dct = (dc ? dc[j] : T(0)) + d * o * (T(1) - tc * tc);
    const T di = dct * g * i * (T(1) - i);
    const T df = dct * cp * f * (T(1) - f);
    const T dgg = dct * i * (T(1) - g * g);
    const T dob = d * tc * o * (T(1) - o);
    dc_out[j] = dct * f;
    dg1[j] = di;
    dg1[H + j] = df;
    dg1[2 * H + j] = dgg;
    dg1[3 * H + j] = dob;
    if (dg2) {
      dg2[j] = di;
      dg2[H + j] = df;
      dg2[2 * H + j] = dgg;
      dg2[3 * H + j] = dob;
    }
  }
}

// GRU forward: gh without the n part of b_hh when b_hn is given (the layer loop folds
// b_hr, b_hz into gx); act (3H or null) gets r, z, n; ghn_out (or null) gets gh_n + b_hn.
template <class T>
inline void gru_fwd_units(int64_t u0, int64_t u1, int64_t H, const T* gx, const T* gh, const T* b_hn, const T* hp,
                          T* h, T* act, T* ghn_out) {
#ifdef PYFASTNN_RNN_VECTOR_CELLS
  if constexpr (std::is_same_v<T, float>) return rnn_vcell::gru_fwd(u0, u1, H, gx, gh, b_hn, hp, h, act, ghn_out);
#endif
#pragma omp simd
  for (int64_t j = u0; j < u1; ++j) {
    const T r = sig(gx[j] + gh[j]);
    const T z = sig(gx[H + j] + gh[H + j]);
    const T hn = gh[2 * H + j] + (b_hn ? b_hn[j] : T(0));
    const T n = tnh(gx[2 * H + j] + r * hn);
    h[j] = n + z * (hp[j] - n);
    if (act) {
      act[j] = r;
      act[H + j] = z;
      act[2 * H + j] = n;
    }
    if (ghn_out) ghn_out[j] = hn;
  }
}

// GRU backward: dgx (3H) gets d(gx), dgh1 and dgh2 (or null) d(gh), dh_out the direct
// part of d(h_prev) (z dh; the W_hh part comes from the step product).
template <class T>
inline void gru_bwd_units(int64_t u0, int64_t u1, int64_t H, const T* act, const T* ghn, const T* hp, const T* dh,
                          T* dgx, T* dgh1, T* dgh2, T* dh_out) {
#pragma omp simd
  for (int64_t j = u0; j < u1; ++j) {
    const T r = act[j], z = act[H + j], n = act[2 * H + j];
    const T d = dh[j];
    const T dnp = d * (T(1) - z) * (T(1) - n * n);
    const T dzp = d * (hp[j] - n) * z * (T(1) - z);
    const T drp = dnp * ghn[j] * r * (T(1) - r);
    const T dhn = dnp * r;
    dgx[j] = drp;
    dgx[H + j] = dzp;
    dgx[2 * H + j] = dnp;
    dgh1[j] = drp;
    dgh1[H + j] = dzp;
    dgh1[2 * H + j] = dhn;
    if (dgh2) {
      dgh2[j] = drp;
      dgh2[H + j] = dzp;
      dgh2[2 * H + j] = dhn;
    }
    dh_out[j] = d * z;
  }
}

template <class T>
inline void rnn_fwd_units(int64_t u0, int64_t u1, bool relu, const T* gx, const T* gh, T* h, T* act) {
#ifdef PYFASTNN_RNN_VECTOR_CELLS
  if constexpr (std::is_same_v<T, float>)
    if (!relu) return rnn_vcell::rnn_tanh_fwd(u0, u1, gx, gh, h, act);
#endif
  if (relu) {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T v = gx[j] + gh[j];
      const T o = v < T(0) ? T(0) : v;  // NaN stays NaN
      h[j] = o;
      if (act) act[j] = o;
    }
  } else {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T o = tnh(gx[j] + gh[j]);
      h[j] = o;
      if (act) act[j] = o;
    }
  }
}

template <class T>
inline void rnn_bwd_units(int64_t u0, int64_t u1, bool relu, const T* h, const T* dh, T* dg1, T* dg2) {
  if (relu) {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T d = h[j] > T(0) ? dh[j] : T(0);
      dg1[j] = d;
      if (dg2) dg2[j] = d;
    }
  } else {
#pragma omp simd
    for (int64_t j = u0; j < u1; ++j) {
      const T d = dh[j] * (T(1) - h[j] * h[j]);
      dg1[j] = d;
      if (dg2) dg2[j] = d;
    }
  }
}

// ---- the cells over B contiguous rows (the pointwise kernels of rnn.h)
template <class T>
void lstm_fwd_rows(int64_t B, int64_t H, const T* gx, const T* gh, const T* c, T* h, T* c_new, T* act) {
  for (int64_t b = 0; b < B; ++b)
    lstm_fwd_units<T>(0, H, H, gx + b * 4 * H, gh + b * 4 * H, c + b * H, c_new + b * H, h + b * H,
                      act ? act + b * 4 * H : nullptr, nullptr);
}
template <class T>
void lstm_bwd_rows(int64_t B, int64_t H, const T* act, const T* c, const T* dh, const T* dc_new, T* dg, T* dc) {
  for (int64_t b = 0; b < B; ++b)
    lstm_bwd_units<T>(0, H, H, act + b * 4 * H, c + b * H, dh + b * H, dc_new ? dc_new + b * H : nullptr, dc + b * H,
                      dg + b * 4 * H, nullptr);
}
template <class T>
void gru_fwd_rows(int64_t B, int64_t H, const T* gx, const T* gh, const T* h, T* h_new, T* act) {
  for (int64_t b = 0; b < B; ++b)
    gru_fwd_units<T>(0, H, H, gx + b * 3 * H, gh + b * 3 * H, nullptr, h + b * H, h_new + b * H,
                     act ? act + b * 4 * H : nullptr, act ? act + b * 4 * H + 3 * H : nullptr);
}
template <class T>
void gru_bwd_rows(int64_t B, int64_t H, const T* act, const T* h, const T* dh_new, T* dgx, T* dgh, T* dh) {
  for (int64_t b = 0; b < B; ++b)
    gru_bwd_units<T>(0, H, H, act + b * 4 * H, act + b * 4 * H + 3 * H, h + b * H, dh_new + b * H, dgx + b * 3 * H,
                     dgh + b * 3 * H, nullptr, dh + b * H);
}
template <class T>
void rnn_fwd_rows(int64_t B, int64_t H, bool relu, const T* gx, const T* gh, T* h) {
  for (int64_t b = 0; b < B; ++b) rnn_fwd_units<T>(0, H, relu, gx + b * H, gh + b * H, h + b * H, nullptr);
}
template <class T>
void rnn_bwd_rows(int64_t B, int64_t H, bool relu, const T* h, const T* dh, T* dpre) {
  for (int64_t b = 0; b < B; ++b) rnn_bwd_units<T>(0, H, relu, h + b * H, dh + b * H, dpre + b * H, nullptr);
}

// ---------------------------------------------------------------- time loops
template <class T>
struct Loops {
  using S = Step<T>;
  static constexpr int NR = S::NR;

  static int gates(const RnnDirPlan<T>& p) { return rnn_gate_count(static_cast<RnnMode>(p.mode)); }

  static void range(int64_t n, int tid, int nt, int64_t* p0, int64_t* p1, int64_t* u0, int64_t* u1) {
    const int64_t np = S::panels(n);
    *p0 = np * tid / nt;
    *p1 = np * (tid + 1) / nt;
    *u0 = *p0 * NR;
    *u1 = *p1 * NR < n ? *p1 * NR : n;
    if (*u0 > n) *u0 = n;
  }

  // acc[g H + u] += v[g H + u] for every gate g and unit u in [u0, u1)
  static void add_units(int64_t G, int64_t H, int64_t u0, int64_t u1, const T* v, T* acc) {
    for (int64_t g = 0; g < G; ++g) {
      const T* src = v + g * H;
      T* dst = acc + g * H;
#pragma omp simd
      for (int64_t u = u0; u < u1; ++u) dst[u] += src[u];
    }
  }

  static int64_t row(const RnnDirPlan<T>& p, int64_t t, int64_t b) {
    return p.batch_first ? b * p.steps + t : t * p.batch + b;
  }
  static int64_t time_of(const RnnDirPlan<T>& p, int64_t s, int64_t len) {
    return !p.reverse ? s : (s < len ? len - 1 - s : s);
  }

  static int max_threads(const RnnDirPlan<T>& p) {
    const int64_t G = gates(p);
    int64_t np = S::panels(p.hidden);
    if (p.proj > 0 && S::panels(p.proj) < np) np = S::panels(p.proj);
    // below ~50k flops a step, a second thread's barrier costs more than it saves
    const double flops = 2.0 * double(p.batch) * double(p.out) * double(G * p.hidden) +
                         2.0 * double(p.batch) * double(p.hidden) * double(p.proj);
    const int64_t by_size = static_cast<int64_t>(flops / 50e3);
    int64_t n = np < by_size ? np : by_size;
    return static_cast<int>(n < 1 ? 1 : (n > 256 ? 256 : n));
  }

  // scratch layouts (element offsets, each region 64-byte aligned)
  struct FwdLayout {
    int64_t packed_hh, packed_hr, h0, h1, c, tmp, hraw, total;
    int64_t ldh, ldc, ldt, gsz;
  };
  static FwdLayout fwd_layout(const RnnDirPlan<T>& p) {
    const int64_t G = gates(p), H = p.hidden, B = p.batch, Hout = p.out;
    FwdLayout L{};
    L.ldh = scratch_ld<T>(Hout);
    L.ldc = scratch_ld<T>(H);
    L.ldt = scratch_ld<T>(G * H);
    L.gsz = round64(S::packed_size(Hout, H), sizeof(T));
    int64_t off = 0;
    auto take = [&](int64_t n) {
      const int64_t at = off;
      off += round64(n, sizeof(T));
      return at;
    };
    L.packed_hh = take(G * L.gsz);
    L.packed_hr = take(p.proj > 0 ? S::packed_size(H, p.proj) : 0);
    L.h0 = take(B * L.ldh);
    L.h1 = take(B * L.ldh);
    L.c = take(B * L.ldc);
    L.tmp = take(B * L.ldt);
    L.hraw = take(p.proj > 0 ? B * L.ldc : 0);
    L.total = off;
    return L;
  }
  static int64_t scratch_forward(const RnnDirPlan<T>& p, int) { return fwd_layout(p).total; }

  static void forward(const RnnDirPlan<T>& p, int tid, int nt, RnnBarrier& bar) {
    const RnnMode mode = static_cast<RnnMode>(p.mode);
    const int64_t G = gates(p), H = p.hidden, B = p.batch, Hout = p.out, P = p.proj, GH = G * H;
    const bool proj = P > 0, save = p.save, relu = mode == RnnMode::rnn_relu;
    const FwdLayout L = fwd_layout(p);
    T* const ws = p.scratch;
    T* packed_hh = ws + L.packed_hh;
    T* packed_hr = ws + L.packed_hr;
    T* hbuf[2] = {ws + L.h0, ws + L.h1};
    T* cst = ws + L.c;
    T* tmp = ws + L.tmp;
    T* hraw_st = ws + L.hraw;
    const int64_t ldh = L.ldh, ldc = L.ldc, ldt = L.ldt;

    int64_t ph0, ph1, u0, u1, pq0, pq1, q0, q1;
    range(H, tid, nt, &ph0, &ph1, &u0, &u1);
    range(Hout, tid, nt, &pq0, &pq1, &q0, &q1);

    for (int64_t g = 0; g < G; ++g)
      S::pack(true, p.w_hh + g * H * p.ld_hh, p.ld_hh, Hout, H, ph0, ph1, packed_hh + g * L.gsz);
    if (proj) S::pack(true, p.w_hr, p.ld_hr, H, P, pq0, pq1, packed_hr);
    for (int64_t b = 0; b < B; ++b) {
      T* h = hbuf[0] + b * ldh;
      for (int64_t q = q0; q < q1; ++q) h[q] = p.h0 ? p.h0[b * Hout + q] : T(0);
      T* c = cst + b * ldc;
      for (int64_t u = u0; u < u1; ++u) c[u] = p.c0 ? p.c0[b * H + u] : T(0);
    }
    bar.wait();

    int cur = 0;
    for (int64_t s = 0; s < p.steps; ++s) {
      const T* hc = hbuf[cur];
      T* hx = hbuf[cur ^ 1];
      if (u1 > u0)
        for (int64_t g = 0; g < G; ++g)
          S::gemm(B, hc, ldh, packed_hh + g * L.gsz, Hout, H, ph0, ph1, tmp + g * H, ldt, T(0));
      for (int64_t b = 0; b < B; ++b) {
        const int64_t len = p.lengths ? p.lengths[b] : p.steps;
        const bool valid = s < len;
        const int64_t r = row(p, time_of(p, s, len), b);
        T* yr = p.y + r * p.ldy;
        const T* hcb = hc + b * ldh;
        T* hxb = hx + b * ldh;
        if (!valid) {
          if (!proj) {
            for (int64_t u = u0; u < u1; ++u) {
              hxb[u] = hcb[u];
              yr[u] = T(0);
            }
            if (save) std::memset(p.hprev + r * Hout + u0, 0, sizeof(T) * (u1 - u0));
          } else if (save) {
            std::memset(p.hraw + r * H + u0, 0, sizeof(T) * (u1 - u0));
          }
          continue;
        }
        T* gr = p.gates + r * GH;
        const T* ghr = tmp + b * ldt;
        T* hdst = proj ? hraw_st + b * ldc : hxb;
        switch (mode) {
          case RnnMode::lstm:
            lstm_fwd_units<T>(u0, u1, H, gr, ghr, cst + b * ldc, cst + b * ldc, hdst, save ? gr : nullptr,
                              save ? p.cprev + r * H : nullptr);
            break;
          case RnnMode::gru:
            gru_fwd_units<T>(u0, u1, H, gr, ghr, p.b_hn, hcb, hdst, save ? gr : nullptr,
                             save ? p.ghn + r * H : nullptr);
            break;
          default:
            rnn_fwd_units<T>(u0, u1, relu, gr, ghr, hdst, save ? gr : nullptr);
            break;
        }
        if (!proj) {
          std::memcpy(yr + u0, hxb + u0, sizeof(T) * (u1 - u0));
          if (save) std::memcpy(p.hprev + r * Hout + u0, hcb + u0, sizeof(T) * (u1 - u0));
        } else if (save) {
          std::memcpy(p.hraw + r * H + u0, hdst + u0, sizeof(T) * (u1 - u0));
        }
      }
      if (proj) {
        bar.wait();  // the projection reads every unit of h_raw
        if (q1 > q0) S::gemm(B, hraw_st, ldc, packed_hr, H, P, pq0, pq1, hx, ldh, T(0));
        for (int64_t b = 0; b < B; ++b) {
          const int64_t len = p.lengths ? p.lengths[b] : p.steps;
          const int64_t r = row(p, time_of(p, s, len), b);
          T* yr = p.y + r * p.ldy;
          const T* hcb = hc + b * ldh;
          T* hxb = hx + b * ldh;
          if (s < len) {
            std::memcpy(yr + q0, hxb + q0, sizeof(T) * (q1 - q0));
            if (save) std::memcpy(p.hprev + r * Hout + q0, hcb + q0, sizeof(T) * (q1 - q0));
          } else {
            for (int64_t q = q0; q < q1; ++q) {
              hxb[q] = hcb[q];
              yr[q] = T(0);
            }
            if (save) std::memset(p.hprev + r * Hout + q0, 0, sizeof(T) * (q1 - q0));
          }
        }
      }
      bar.wait();  // the next step's product reads every unit of h
      cur ^= 1;
    }
    for (int64_t b = 0; b < B; ++b) {
      if (p.hn) std::memcpy(p.hn + b * Hout + q0, hbuf[cur] + b * ldh + q0, sizeof(T) * (q1 - q0));
      if (p.cn) std::memcpy(p.cn + b * H + u0, cst + b * ldc + u0, sizeof(T) * (u1 - u0));
    }
  }

  struct BwdLayout {
    int64_t packed_hh, packed_hr, dh0, dh1, dc, dgs0, dgs1, dhout, dhraw, total;
    int64_t ldh, ldc, ldg;
  };
  static BwdLayout bwd_layout(const RnnDirPlan<T>& p) {
    const int64_t G = gates(p), H = p.hidden, B = p.batch, Hout = p.out, P = p.proj;
    BwdLayout L{};
    L.ldh = scratch_ld<T>(Hout);
    L.ldc = scratch_ld<T>(H);
    L.ldg = scratch_ld<T>(G * H);
    int64_t off = 0;
    auto take = [&](int64_t n) {
      const int64_t at = off;
      off += round64(n, sizeof(T));
      return at;
    };
    L.packed_hh = take(S::packed_size(G * H, Hout));
    L.packed_hr = take(P > 0 ? S::packed_size(P, H) : 0);
    L.dh0 = take(B * L.ldh);
    L.dh1 = take(B * L.ldh);
    L.dc = take(B * L.ldc);
    L.dgs0 = take(B * L.ldg);
    L.dgs1 = take(B * L.ldg);
    L.dhout = take(P > 0 ? B * L.ldh : 0);
    L.dhraw = take(P > 0 ? B * L.ldc : 0);
    L.total = off;
    return L;
  }
  static int64_t scratch_backward(const RnnDirPlan<T>& p, int) { return bwd_layout(p).total; }

  static void backward(const RnnDirPlan<T>& p, int tid, int nt, RnnBarrier& bar) {
    const RnnMode mode = static_cast<RnnMode>(p.mode);
    const int64_t G = gates(p), H = p.hidden, B = p.batch, Hout = p.out, P = p.proj, GH = G * H;
    const bool proj = P > 0, relu = mode == RnnMode::rnn_relu;
    const BwdLayout L = bwd_layout(p);
    T* const ws = p.scratch;
    T* packed_hh = ws + L.packed_hh;
    T* packed_hr = ws + L.packed_hr;
    T* dhbuf[2] = {ws + L.dh0, ws + L.dh1};
    T* dcst = ws + L.dc;
    T* dgs[2] = {ws + L.dgs0, ws + L.dgs1};
    T* dhout_st = ws + L.dhout;
    T* dhraw = ws + L.dhraw;
    const int64_t ldh = L.ldh, ldc = L.ldc, ldg = L.ldg;

    int64_t ph0, ph1, u0, u1, pq0, pq1, q0, q1;
    range(H, tid, nt, &ph0, &ph1, &u0, &u1);
    range(Hout, tid, nt, &pq0, &pq1, &q0, &q1);
    S::pack(false, p.w_hh, p.ld_hh, GH, Hout, pq0, pq1, packed_hh);
    if (proj) S::pack(false, p.w_hr, p.ld_hr, P, H, ph0, ph1, packed_hr);
    for (T* db : {p.db_ih, p.db_hh})
      if (db)
        for (int64_t g = 0; g < G; ++g) std::memset(db + g * H + u0, 0, sizeof(T) * (u1 - u0));
    for (int64_t b = 0; b < B; ++b) {
      T* dh = dhbuf[0] + b * ldh;
      for (int64_t q = q0; q < q1; ++q) dh[q] = p.dhn ? p.dhn[b * Hout + q] : T(0);
      T* dc = dcst + b * ldc;
      for (int64_t u = u0; u < u1; ++u) dc[u] = p.dcn ? p.dcn[b * H + u] : T(0);
    }
    bar.wait();

    int cur = 0;
    for (int64_t s = p.steps - 1; s >= 0; --s) {
      T* dhc = dhbuf[cur];
      T* dhx = dhbuf[cur ^ 1];
      T* dgstep = dgs[s & 1];
      if (proj) {
        // d(output) of this step for the units of the projection this thread owns
        for (int64_t b = 0; b < B; ++b) {
          const int64_t len = p.lengths ? p.lengths[b] : p.steps;
          const int64_t r = row(p, time_of(p, s, len), b);
          T* dho = dhout_st + b * ldh;
          const T* dhcb = dhc + b * ldh;
          T* dhxb = dhx + b * ldh;
          if (s < len) {
            const T* dyr = p.dy ? p.dy + r * p.ldy : nullptr;
            for (int64_t q = q0; q < q1; ++q) {
              dho[q] = dhcb[q] + (dyr ? dyr[q] : T(0));
              dhxb[q] = T(0);
            }
            std::memcpy(p.dhout + r * P + q0, dho + q0, sizeof(T) * (q1 - q0));
          } else {
            for (int64_t q = q0; q < q1; ++q) {
              dho[q] = T(0);
              dhxb[q] = dhcb[q];
            }
            std::memset(p.dhout + r * P + q0, 0, sizeof(T) * (q1 - q0));
          }
        }
        bar.wait();  // d(h_raw) needs every unit of d(output)
        if (u1 > u0) S::gemm(B, dhout_st, ldh, packed_hr, P, H, ph0, ph1, dhraw, ldc, T(0));
      }
      for (int64_t b = 0; b < B; ++b) {
        const int64_t len = p.lengths ? p.lengths[b] : p.steps;
        const bool valid = s < len;
        const int64_t r = row(p, time_of(p, s, len), b);
        T* dgr = p.dg + r * GH;
        T* dgsb = dgstep + b * ldg;
        if (!valid) {
          for (int64_t g = 0; g < G; ++g) {
            std::memset(dgr + g * H + u0, 0, sizeof(T) * (u1 - u0));
            std::memset(dgsb + g * H + u0, 0, sizeof(T) * (u1 - u0));
            if (p.dgh != p.dg) std::memset(p.dgh + r * GH + g * H + u0, 0, sizeof(T) * (u1 - u0));
          }
          if (!proj)
            for (int64_t u = u0; u < u1; ++u) dhx[b * ldh + u] = dhc[b * ldh + u];
          continue;
        }
        // the total gradient of this step's h for units [u0, u1)
        T* dh;
        if (proj) {
          dh = dhraw + b * ldc;
        } else {
          dh = dhc + b * ldh;
          if (p.dy) {
            const T* dyr = p.dy + r * p.ldy;
#pragma omp simd
            for (int64_t u = u0; u < u1; ++u) dh[u] += dyr[u];
          }
        }
        const T* ar = p.gates + r * GH;
        switch (mode) {
          case RnnMode::lstm:
            lstm_bwd_units<T>(u0, u1, H, ar, p.cprev + r * H, dh, dcst + b * ldc, dcst + b * ldc, dgr, dgsb);
            if (!proj) std::memset(dhx + b * ldh + u0, 0, sizeof(T) * (u1 - u0));
            break;
          case RnnMode::gru:
            gru_bwd_units<T>(u0, u1, H, ar, p.ghn + r * H, p.hprev + r * Hout, dh, dgr, p.dgh + r * GH, dgsb,
                             dhx + b * ldh);
            break;
          default:
            rnn_bwd_units<T>(u0, u1, relu, ar, dh, dgr, dgsb);
            std::memset(dhx + b * ldh + u0, 0, sizeof(T) * (u1 - u0));
            break;
        }
        if (p.db_ih) add_units(G, H, u0, u1, dgr, p.db_ih);
        if (p.db_hh) add_units(G, H, u0, u1, p.dgh + r * GH, p.db_hh);
      }
      bar.wait();  // the product below reads every unit's gate gradients
      if (q1 > q0) S::gemm(B, dgstep, ldg, packed_hh, GH, Hout, pq0, pq1, dhx, ldh, T(1));
      cur ^= 1;
    }
    for (int64_t b = 0; b < B; ++b) {
      if (p.dh0) std::memcpy(p.dh0 + b * Hout + q0, dhbuf[cur] + b * ldh + q0, sizeof(T) * (q1 - q0));
      if (p.dc0) std::memcpy(p.dc0 + b * H + u0, dcst + b * ldc + u0, sizeof(T) * (u1 - u0));
    }
  }
};

// Constant-initialized (no code runs at load time: this unit's instructions may not exist
// on the CPU that loads the library).
template <class T>
constexpr RnnLoopFns<T> make_fns() {
  return {&Loops<T>::scratch_forward, &Loops<T>::scratch_backward, &Loops<T>::max_threads, &Loops<T>::forward,
          &Loops<T>::backward, &lstm_fwd_rows<T>, &lstm_bwd_rows<T>, &gru_fwd_rows<T>, &gru_bwd_rows<T>,
          &rnn_fwd_rows<T>, &rnn_bwd_rows<T>};
}

constexpr RnnKernelTable make_table() { return {make_fns<float>(), make_fns<double>()}; }

}  // namespace rnn_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
