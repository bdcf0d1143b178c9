// Winograd F(2x2, 3x3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3x3 kernels at stride 1, dilation 1, one group. Each 2x2 block of
// outputs (a tile) comes from the 4x4 input patch under it:
//   Y[o] = A^T ( sum_c U[o][c] ⊙ V[c] ) A,   U = G w[o][c] G^T,   V = B^T d[c] B,
// and the sum over channels, element by element of the 4x4 matrices, is 16 GEMMs
//   M[xi] (OC x tiles) = U[xi] (OC x C) · V[xi] (C x tiles),   xi = 0 .. 15,
// that is 16 multiply-adds per tile, channel pair where direct convolution needs 36: 2.25x
// fewer. The GEMMs run on the GEMM's own micro-kernels: U is packed once per call into
// A panels, and the input transform writes V straight into the rows the micro-kernel reads
// as B. Tiles go a chunk at a time (V and M of a chunk stay in L2); the output transform
// adds the bias and applies the ReLU as it writes y. The weight gradient is the adjoint:
// dU[xi] = sum over tiles of (A dY A^T)[xi] V[xi]^T, 16 GEMMs whose K is the tiles, then
// dw = G^T dU G. The transforms' coefficients are 0, ±1 and ±1/2, so the rounding error
// stays within a few units of the direct sum's.
//
// Compiled per ISA with the GEMM's tile config (kernel_table.h).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "conv/implicit_impl.h"  // RowTiles, and the headers of the GEMM kernels

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace conv_k {

template <class Cfg>
struct WinogradShape {
  static constexpr int MR = Cfg::MR, NR = Cfg::NR, LD_PANEL = static_cast<int>(Cfg::KC);
  static constexpr int64_t PITCH = MR * LD_PANEL + 16;  // one packed A panel (pack_a_panels)
  // Tiles per chunk, whole B panels: the GEMMs read V in place as rows of CHUNK values, so
  // it is a compile-time stride; V and M of a chunk (16 x (C + OC) x 64 values, 512 KiB
  // for 64 float channels each way) stay in L2.
  static constexpr int CHUNK = (64 + NR - 1) / NR * NR;
  int64_t C, OC, KC, k_blocks, m_tiles;
  explicit WinogradShape(const Conv2dGeometry& g)
      : C(g.c), OC(g.oc), KC(balanced_block(g.c, Cfg::KC, 8)), k_blocks(ceil_div(g.c, KC)),
        m_tiles(RowTiles<MR>(g.oc).count) {}
  int64_t packed_size() const { return 16 * k_blocks * m_tiles * PITCH + 16; }
  int64_t panel(int64_t xi, int64_t kb, int64_t mt) const { return ((xi * k_blocks + kb) * m_tiles + mt) * PITCH; }
};

// U[xi] = (G w G^T)[xi] for every (output, input) channel pair, packed as the GEMM's A panels
// (row tiles of RowTiles<MR>, K blocks of KC channels). Returns the packed size in elements;
// dst null: the size only.
template <class Cfg>
int64_t winograd_weights(const Conv2dGeometry& g, const typename Cfg::T* w, typename Cfg::T* dst) {
  using T = typename Cfg::T;
  using S = WinogradShape<Cfg>;
  const S s(g);
  if (!dst) return s.packed_size();
  const int64_t C = s.C, OC = s.OC, CO = C * OC;
  std::vector<T> u(static_cast<std::size_t>(16 * CO));  // u[xi * CO + o * C + c]
  const T h = T(0.5);
  for (int64_t o = 0; o < OC; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const T* k = w + (o * C + c) * 9;
      T t[4][3];  // G w: rows 0, (r0 + r1 + r2) / 2, (r0 - r1 + r2) / 2, 2
      for (int j = 0; j < 3; ++j) {
        t[0][j] = k[j];
        t[1][j] = h * (k[j] + k[3 + j] + k[6 + j]);
        t[2][j] = h * (k[j] - k[3 + j] + k[6 + j]);
        t[3][j] = k[6 + j];
      }
      for (int i = 0; i < 4; ++i) {  // (G w) G^T: the same on columns
        T* d = u.data() + (i * 4) * CO + o * C + c;
        d[0 * CO] = t[i][0];
        d[1 * CO] = h * (t[i][0] + t[i][1] + t[i][2]);
        d[2 * CO] = h * (t[i][0] - t[i][1] + t[i][2]);
        d[3 * CO] = t[i][2];
      }
    }
  const RowTiles<S::MR> tiles_m(OC);
  for (int64_t xi = 0; xi < 16; ++xi)
    for (int64_t kb = 0; kb < s.k_blocks; ++kb) {
      const int64_t pc = kb * s.KC, kc = min64(s.KC, C - pc);
      for (int64_t mt = 0; mt < s.m_tiles; ++mt)
        pack_a_panels<T, S::MR>(false, u.data() + xi * CO + tiles_m.start(mt) * C + pc, C, tiles_m.rows(mt), kc, 0,
                                1, S::LD_PANEL, S::PITCH, dst + s.panel(xi, kb, mt));
    }
  return s.packed_size();
}

// A run of tiles along one tile row: image n, tile row ty, tiles tx .. tx + len - 1, the
// first at position q of the chunk.
struct TileRun {
  int64_t n, ty, tx, len, q;
};

// Calls f(run) for the tile runs of global tiles [q0, q1) (tiles numbered image by image,
// row by row).
template <class F>
void for_each_run(int64_t q0, int64_t q1, int64_t TH, int64_t TW, F f) {
  for (int64_t q = q0; q < q1;) {
    const int64_t n = q / (TH * TW), r = q % (TH * TW), ty = r / TW, tx = r % TW;
    const int64_t len = min64(TW - tx, q1 - q);
    f(TileRun{n, ty, tx, len, q - q0});
    q += len;
  }
}

// V = B^T d B for `lanes` tiles side by side (a multiple of W: whole vectors, no scalar
// tail): rows holds the 4 input rows under them (tile l reads columns 2l .. 2l + 3 of each),
// V[xi] of tile l goes to v[xi * vs + l].
template <class T, int W>
void input_transform(const T* __restrict rows, int64_t ld, int64_t lanes, T* __restrict v, int64_t vs) {
  for (int64_t l0 = 0; l0 < lanes; l0 += W) {
#pragma omp simd
    for (int64_t l = l0; l < l0 + W; ++l) {
      T t[4][4];  // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
      for (int j = 0; j < 4; ++j) {
        const T d0 = rows[2 * l + j], d1 = rows[ld + 2 * l + j], d2 = rows[2 * ld + 2 * l + j],
                d3 = rows[3 * ld + 2 * l + j];
        t[0][j] = d0 - d2;
        t[1][j] = d1 + d2;
        t[2][j] = d2 - d1;
        t[3][j] = d1 - d3;
      }
      for (int i = 0; i < 4; ++i) {  // (B^T d) B: the same on columns
        v[(i * 4 + 0) * vs + l] = t[i][0] - t[i][2];
        v[(i * 4 + 1) * vs + l] = t[i][1] + t[i][2];
        v[(i * 4 + 2) * vs + l] = t[i][2] - t[i][1];
        v[(i * 4 + 3) * vs + l] = t[i][1] - t[i][3];
      }
    }
  }
}

// Y = A^T M A + bias (then the ReLU) for W tiles side by side of one output channel: M[xi]
// of tile l at m[xi * MS + l]; out0/out1 receive the two output rows (2 values per tile).
template <class T, int W, int MS>
inline void output_transform(const T* __restrict m, T bias, int act, T* __restrict out0, T* __restrict out1) {
#pragma omp simd
  for (int l = 0; l < W; ++l) {
    T s0[4], s1[4];  // A^T M: rows m0 + m1 + m2 and m1 - m2 - m3
    for (int j = 0; j < 4; ++j) {
      const T m0 = m[j * MS + l], m1 = m[(4 + j) * MS + l], m2 = m[(8 + j) * MS + l], m3 = m[(12 + j) * MS + l];
      s0[j] = m0 + m1 + m2;
      s1[j] = m1 - m2 - m3;
    }
    T y00 = s0[0] + s0[1] + s0[2] + bias, y01 = s0[1] - s0[2] - s0[3] + bias;
    T y10 = s1[0] + s1[1] + s1[2] + bias, y11 = s1[1] - s1[2] - s1[3] + bias;
    if (act) {  // NaN stays NaN, as in relu
      y00 = y00 < T(0) ? T(0) : y00;
      y01 = y01 < T(0) ? T(0) : y01;
      y10 = y10 < T(0) ? T(0) : y10;
      y11 = y11 < T(0) ? T(0) : y11;
    }
    out0[2 * l] = y00;
    out0[2 * l + 1] = y01;
    out1[2 * l] = y10;
    out1[2 * l + 1] = y11;
  }
}

// dM = A dY A^T for `lanes` tiles side by side (a multiple of W), the adjoint of the output
// transform: r0 and r1 hold the two rows of dL/dy under them (tile l reads columns 2l and
// 2l + 1), dM[xi] of tile l goes to d[xi * ds + l].
template <class T, int W>
void grad_transform(const T* __restrict r0, const T* __restrict r1, int64_t lanes, T* __restrict d, int64_t ds) {
  for (int64_t l0 = 0; l0 < lanes; l0 += W) {
#pragma omp simd
    for (int64_t l = l0; l < l0 + W; ++l) {
      T t[4][2];  // A dY: rows y0, y0 + y1, y0 - y1, -y1
      for (int b = 0; b < 2; ++b) {
        const T y0 = r0[2 * l + b], y1 = r1[2 * l + b];
        t[0][b] = y0;
        t[1][b] = y0 + y1;
        t[2][b] = y0 - y1;
        t[3][b] = -y1;
      }
      for (int i = 0; i < 4; ++i) {  // (A dY) A^T: the same on columns
        d[(i * 4 + 0) * ds + l] = t[i][0];
        d[(i * 4 + 1) * ds + l] = t[i][0] + t[i][1];
        d[(i * 4 + 2) * ds + l] = t[i][0] - t[i][1];
        d[(i * 4 + 3) * ds + l] = -t[i][1];
      }
    }
  }
}

// V = B^T d B of a chunk of tiles, for the forward pass and the weight gradient: the input
// rows under the chunk's tiles are copied with their zero padding, image by image (a 3x3
// convolution's output rows [2 ty0, 2 ty1 + 2) read exactly the rows of tile rows ty0 .. ty1:
// padded_band, on a geometry rounded up to whole tiles), then each run of tiles is
// transformed, channel by channel, straight into V[xi] = C rows of NT tiles at v + xi * vs.
template <class Cfg>
struct InputTransform {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  static constexpr int W = V::W, NT = WinogradShape<Cfg>::CHUNK;
  struct RunIn {
    TileRun r;
    const T* rows;    // channel 0's 4 rows under the run, band_ld apart
    int64_t cstride;  // to the next channel's
  };
  const T* x;
  Conv2dGeometry gt;  // g with its output rounded up to whole tiles
  int64_t C, TH, TW, band_ld;
  T* band;  // this thread's copy of a chunk's padded input rows
  RunIn plan[NT];
  int64_t runs = 0;

  InputTransform(const Conv2dGeometry& g, const T* x_) : x(x_), gt(g), C(g.c) {
    TH = ceil_div(g.oh, 2);
    TW = ceil_div(g.ow, 2);
    gt.oh = 2 * TH;
    gt.ow = 2 * TW;
    band_ld = band_in_cols(gt);
    // a chunk spans at most (NT - 1) / TW + 2 tile rows, each image's share 2 input rows
    // longer; W + 2 values of slack for the whole-vector reads past a run
    const int64_t tile_rows = min64(NT, (NT - 1) / TW + 2);
    band = thread_workspace_as<T>(WorkspaceSlot::gemm_a, static_cast<std::size_t>(C * 4 * tile_rows * band_ld + 2 * W + 2));
  }

  // V of tiles [c0, c1) (at most NT); v's rows are written in whole vectors, so each xi
  // needs W values of slack after its C rows (vs >= C * NT + W).
  void operator()(int64_t c0, int64_t c1, T* v, int64_t vs) {
    const int64_t HW = gt.h * gt.w;
    runs = 0;
    for_each_run(c0, c1, TH, TW, [&](const TileRun& r) { plan[runs++] = RunIn{r, nullptr, 0}; });
    T* bp = band;
    for (int64_t i = 0, j; i < runs; i = j) {
      for (j = i; j < runs && plan[j].r.n == plan[i].r.n; ++j) {
      }
      const int64_t ty0 = plan[i].r.ty, ty1 = plan[j - 1].r.ty, brows = 2 * (ty1 - ty0) + 4;
      padded_band<V>(gt, x + plan[i].r.n * C * HW, C, 2 * ty0, 2 * ty1 + 2, bp);
      for (int64_t k = i; k < j; ++k) {
        plan[k].rows = bp + 2 * (plan[k].r.ty - ty0) * band_ld + 2 * plan[k].r.tx;
        plan[k].cstride = brows * band_ld;
      }
      bp += C * brows * band_ld;
    }
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < runs; ++k)
        input_transform<T, W>(plan[k].rows + c * plan[k].cstride, band_ld, ceil_div(plan[k].r.len, W) * W,
                              v + c * NT + plan[k].r.q, vs);
  }
};

// y = act(conv(x, w) + bias) for global tiles [q0, q1) (tiles of 2x2 outputs, numbered
// image by image, row by row): x and y the whole input and output, u the packed transformed
// weights (winograd_weights), bias OC values or null, act 0 none / 1 relu.
template <class Cfg>
void winograd_forward(const Conv2dGeometry& g, const typename Cfg::T* x, const typename Cfg::T* u,
                      const typename Cfg::T* bias, int act, int64_t q0, int64_t q1, typename Cfg::T* y) {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  using S = WinogradShape<Cfg>;
  constexpr int NR = S::NR, W = V::W, NT = S::CHUNK;
  static constexpr MicroKernelTable<V, S::MR, Cfg::NRV, ALayout::row_major, S::LD_PANEL, NT> kernels{};
  const S s(g);
  InputTransform<Cfg> transform(g, x);
  const int64_t C = s.C, OC = s.OC, OH = g.oh, OW = g.ow, OHW = OH * OW, TH = transform.TH, TW = transform.TW;
  // V[xi] is C rows of NT tiles (+ W values of slack: runs are written in whole vectors, and
  // a run's excess lands on tiles or channels written after it). M is channel-major: the 16
  // rows of NT tiles of output channel o at o * 16 * MS (MS = NT + W: slack for whole-vector
  // reads), so the output transform reads them at fixed offsets.
  constexpr int MS = NT + W;
  const int64_t vs = C * NT + W, ms = 16 * MS;
  T* v = thread_workspace_as<T>(WorkspaceSlot::gemm_b, static_cast<std::size_t>(16 * vs));
  T* mbuf = thread_workspace_as<T>(WorkspaceSlot::scratch, static_cast<std::size_t>(OC * ms));
  const RowTiles<S::MR> tiles_m(OC);

  for (int64_t c0 = q0; c0 < q1; c0 += NT) {
    const int64_t c1 = min64(q1, c0 + NT), nt = c1 - c0, panels = ceil_div(nt, NR);
    // 1. V = B^T d B, straight into the rows the GEMMs read
    transform(c0, c1, v, vs);
    if (nt % NR)  // the last panel's columns past the last tile: zeros, so they stay finite
      for (int64_t xi = 0; xi < 16; ++xi)
        for (int64_t c = 0; c < C; ++c) {
          T* d = v + xi * vs + c * NT;
          for (int64_t j = nt; j < panels * NR; ++j) d[j] = T(0);
        }
    // 2. M[xi] = U[xi] V[xi]: a B panel stays in L1 across the row tiles
    for (int64_t xi = 0; xi < 16; ++xi)
      for (int64_t kb = 0; kb < s.k_blocks; ++kb) {
        const int64_t pc = kb * s.KC, kc = min64(s.KC, C - pc);
        const T beta = kb == 0 ? T(0) : T(1);
        for (int64_t p = 0; p < panels; ++p) {
          const T* b = v + xi * vs + pc * NT + p * NR;
          const int cols = static_cast<int>(min64(NR, nt - p * NR));
          for (int64_t mt = 0; mt < s.m_tiles; ++mt) {
            const int64_t m0 = tiles_m.start(mt);
            kernels.fn[tiles_m.rows(mt) - 1][(cols - 1) / W](kc, u + s.panel(xi, kb, mt), 0, b,
                                                              mbuf + m0 * ms + xi * MS + p * NR, ms, T(1), beta,
                                                              cols, nullptr, 0);
          }
        }
      }
    // 3. y = A^T M A + bias, run by run: whole vectors of tiles straight into y (a run's last
    // W tiles overlap the vector before them), a run shorter than that (or one whose last
    // tile sticks out of the output) through a buffer
    for_each_run(c0, c1, TH, TW, [&](const TileRun& r) {
      const int64_t oh = 2 * r.ty, ow = 2 * r.tx, cols = min64(2 * r.len, OW - ow);
      const bool two_rows = oh + 1 < OH;
      alignas(64) T buf0[2 * W], buf1[2 * W];  // a partial vector of tiles, or a missing row
      for (int64_t o = 0; o < OC; ++o) {
        const T* m = mbuf + o * ms + r.q;
        const T b = bias ? bias[o] : T(0);
        T* y0 = y + (r.n * OC + o) * OHW + oh * OW + ow;
        T* y1 = two_rows ? y0 + OW : buf1;
        int64_t l = 0;
        for (; 2 * (l + W) <= cols; l += W) output_transform<T, W, MS>(m + l, b, act, y0 + 2 * l, y1 + 2 * l * two_rows);
        if (2 * l < cols && cols == 2 * r.len && r.len >= W) {  // the last W tiles again, in place
          l = r.len - W;
          output_transform<T, W, MS>(m + l, b, act, y0 + 2 * l, y1 + 2 * l * two_rows);
        } else if (2 * l < cols) {
          output_transform<T, W, MS>(m + l, b, act, buf0, buf1);
          for (int64_t j = 0; j < cols - 2 * l; ++j) y0[2 * l + j] = buf0[j];
          if (two_rows)
            for (int64_t j = 0; j < cols - 2 * l; ++j) y0[OW + 2 * l + j] = buf1[j];
        }
      }
    });
  }
}

// The weight gradient's transform for global tiles [q0, q1): since Y = A^T (U ⊙ V) A per
// tile with U = G w G^T, dL/dU[xi] = sum over tiles of (A dY A^T)[xi] V[xi], i.e. 16 GEMMs
//   dU^T[xi] (C x OC) += V[xi] (C x tiles) · dM[xi]^T (tiles x OC),
// accumulated into dut (16 x C x OC); dL/dw = G^T dU G follows once all tiles are in
// (conv.cpp). x the whole input, gz the whole dL/dy (after the activation's gradient).
template <class Cfg>
void winograd_dweight(const Conv2dGeometry& g, const typename Cfg::T* x, const typename Cfg::T* gz, int64_t q0,
                      int64_t q1, typename Cfg::T* dut) {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  using S = WinogradShape<Cfg>;
  constexpr int MR = S::MR, NR = S::NR, W = V::W, NT = S::CHUNK;
  static_assert(NT <= S::LD_PANEL, "a chunk's tiles are one K block of the packed A panels");
  static constexpr MicroKernelTable<V, MR, Cfg::NRV, ALayout::row_major, S::LD_PANEL> kernels{};
  InputTransform<Cfg> transform(g, x);
  const int64_t C = g.c, OC = g.oc, OH = g.oh, OW = g.ow, OHW = OH * OW, TH = transform.TH, TW = transform.TW;
  const T* gz_end = gz + g.n * OC * OHW;
  const RowTiles<MR> tiles_m(C);
  const int64_t o_panels = ceil_div(OC, NR);
  // V[xi] and dM[xi]: rows of NT tiles, W values of slack per xi (whole-vector writes)
  const int64_t vs = C * NT + W, ds = OC * NT + W;
  const int64_t lanes_max = ceil_div(min64(TW, NT), W) * W;
  T* v = thread_workspace_as<T>(WorkspaceSlot::gemm_b, static_cast<std::size_t>(16 * vs));
  T* scratch = thread_workspace_as<T>(
      WorkspaceSlot::scratch,
      static_cast<std::size_t>(16 * ds + tiles_m.count * S::PITCH + 16 + o_panels * NR * NT + 4 * lanes_max));
  T* dm = scratch;
  T* a_pack = dm + 16 * ds;                           // V[xi] as A panels (rows: channels)
  T* b_pack = a_pack + tiles_m.count * S::PITCH + 16;  // dM[xi]^T as B panels (columns: outputs)
  T* rows = b_pack + o_panels * NR * NT;              // two rows of dL/dy, zero-padded

  for (int64_t c0 = q0; c0 < q1; c0 += NT) {
    const int64_t c1 = min64(q1, c0 + NT), nt = c1 - c0;
    // 1. V = B^T d B
    transform(c0, c1, v, vs);
    // 2. dM = A dY A^T, output channel by output channel, run by run; rows are read in
    // place where the run's whole vectors stay inside dL/dy and its last tile is whole
    for (int64_t o = 0; o < OC; ++o)
      for_each_run(c0, c1, TH, TW, [&](const TileRun& r) {
        const int64_t lanes = ceil_div(r.len, W) * W, oh = 2 * r.ty, ow = 2 * r.tx;
        const T* r0 = gz + (r.n * OC + o) * OHW + oh * OW + ow;
        const T* r1 = r0 + OW;
        if (!(2 * r.len <= OW - ow && oh + 1 < OH && r1 + 2 * lanes <= gz_end)) {
          const int64_t cols = min64(2 * r.len, OW - ow);
          T* b0 = rows;
          T* b1 = rows + 2 * lanes_max;
          for (int64_t j = 0; j < 2 * lanes; ++j) {
            b0[j] = j < cols ? r0[j] : T(0);
            b1[j] = j < cols && oh + 1 < OH ? r1[j] : T(0);
          }
          r0 = b0;
          r1 = b1;
        }
        grad_transform<T, W>(r0, r1, lanes, dm + o * NT + r.q, ds);
      });
    // 3. dU^T[xi] += V[xi] dM[xi]^T, the chunk's tiles as one K block
    for (int64_t xi = 0; xi < 16; ++xi) {
      for (int64_t mt = 0; mt < tiles_m.count; ++mt)
        pack_a_panels<T, MR>(false, v + xi * vs + tiles_m.start(mt) * NT, NT, tiles_m.rows(mt), nt, 0, 1,
                             S::LD_PANEL, S::PITCH, a_pack + mt * S::PITCH);
      pack_b_block<T, NR>(true, dm + xi * ds, NT, OC, nt, b_pack);
      for (int64_t p = 0; p < o_panels; ++p) {
        const int cols = static_cast<int>(min64(NR, OC - p * NR));
        for (int64_t mt = 0; mt < tiles_m.count; ++mt)
          kernels.fn[tiles_m.rows(mt) - 1][(cols - 1) / W](nt, a_pack + mt * S::PITCH, 0, b_pack + p * NR * nt,
                                                            dut + (xi * C + tiles_m.start(mt)) * OC + p * NR, OC,
                                                            T(1), T(1), cols, nullptr, 0);
      }
    }
  }
}

}  // namespace conv_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
