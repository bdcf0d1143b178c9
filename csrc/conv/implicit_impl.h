// Implicit-GEMM convolution: the GEMM's own micro-kernels (gemm/microkernel.h) fed by packing
// routines that read the image directly, so no im2col matrix is ever written.
//
// One call handles a unit: a band of output rows [oh0, oh1) of one image and group, or, for
// small images, whole images [0, images) of one group side by side (their pixels form one
// long row of GEMM columns, so a 7x7 map does not waste most of its last 16-wide panel).
//   1. The input rows a unit reads are copied once, with their zero padding, into a small
//      buffer with slack at the end, so every read below is in bounds and column
//      (c, ki, kj) of the virtual im2col matrix is the buffer shifted by
//      koff[k] = c * plane + ki * dil_h * ld + kj * dil_w, sampled at the output pixels'
//      offsets off[q] = image * image_stride + (oh - oh0) * stride_h * ld + ow * stride_w.
//   2. forward: y = W * cols, W read in place (or packed) as the A operand, cols packed into
//      NR-wide B panels straight from the buffer: the NR pixels of a panel lie in a few
//      runs (output rows), the same for every k, so each k costs a vector copy (one run),
//      a load per run and blends (up to 4 runs), a strided copy (stride 2) or a gather.
//      y starts as the bias; the last K block applies the ReLU as it stores. Units of
//      several images compute into a buffer that is then copied out per image.
//   3. weight gradient: dW^T += cols * gz^T, cols packed as MR-row A panels (runs of pixels
//      along output rows), gz^T as transposed B panels (gemm/pack.h).
// The backward-data pass of a stride-1 convolution is a forward convolution of gz with the
// flipped, transposed weights (conv.cpp), so it runs here too.
//
// Included by kernel_table.h, compiled per ISA with PYFASTNN_ISA_NS and the GEMM's tile config.
#pragma once
#include <cstdint>
#include <cstring>

#include "conv/conv_impl.h"
#include "gemm/blocked.h"
#include "gemm/microkernel.h"
#include "gemm/pack.h"
#include "pyfastnn/workspace.h"

// Short vector-copy loops stay inline: GCC would turn them into memmove calls, whose call
// overhead dominates copies of a few dozen values (rows of a 7x7 or 14x14 map).
#if defined(__GNUC__) && !defined(__clang__)
#define PYFASTNN_INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PYFASTNN_INLINE_COPIES
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace conv_k {

// Rows and columns of the padded input a band of output rows [oh0, oh1) reads.
inline int64_t band_in_rows(const Conv2dGeometry& g, int64_t oh0, int64_t oh1) {
  return (oh1 - oh0 - 1) * g.stride_h + g.dil_h * (g.kh - 1) + 1;
}
inline int64_t band_in_cols(const Conv2dGeometry& g) { return (g.ow - 1) * g.stride_w + g.dil_w * (g.kw - 1) + 1; }

// Copies channel planes x (H x W each) of the input rows that output rows [oh0, oh1) read,
// zeros where the window leaves the input, into buf: channel c's row r at
// buf + (c * rows + r) * cols. Always a copy, even without padding: it is small next to the
// product (about the input's size), keeps the band in cache, and lets the packing read a
// vector past a run. Rows go a vector at a time (V::W values) where the excess stays
// inside x's `channels` planes (not near their end: a narrow last row, or the last rows of
// planes narrower than a vector) and lands where this copy writes next.
template <class V>
PYFASTNN_INLINE_COPIES void padded_band(const Conv2dGeometry& g, const typename V::T* x, int64_t channels, int64_t oh0, int64_t oh1,
                 typename V::T* buf) {
  using T = typename V::T;
  constexpr int W = V::W;
  const int64_t H = g.h, IW = g.w, r0 = oh0 * g.stride_h - g.pad_h;
  const int64_t rows = band_in_rows(g, oh0, oh1), cols = band_in_cols(g);
  // input columns [-pad_w, cols - pad_w): zeros left of 0 and right of IW
  const int64_t left = g.pad_w < cols ? g.pad_w : cols;
  int64_t mid = IW < cols - left ? IW : cols - left;
  if (mid < 0) mid = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      T* __restrict d = buf + (c * rows + r) * cols;
      const int64_t ih = r0 + r;
      if (ih < 0 || ih >= H) {
        std::memset(d, 0, sizeof(T) * cols);
        continue;
      }
      const T* s = x + (c * H + ih) * IW;
      for (int64_t j = 0; j < left; ++j) d[j] = T(0);
      if ((c * H + ih) * IW + (mid + W - 1) / W * W <= channels * H * IW) {  // whole vectors stay in x
        for (int64_t j = 0; j < mid; j += W) V::storeu(d + left + j, V::loadu(s + j));
      } else {
        std::memcpy(d + left, s, sizeof(T) * mid);
      }
      for (int64_t j = left + mid; j < cols; ++j) d[j] = T(0);
    }
}

// How pack_b_image copies the NR pixels of a panel for each k.
enum PanelKind : unsigned char {
  panel_run = 0,      // one contiguous run: a vector copy
  panel_runs2 = 1,    // two runs (an output row ends inside the panel): two loads and a blend
  panel_runs = 2,     // 3 or 4 runs (small images): a load per run, blends
  panel_stride2 = 3,  // one row at stride 2: every other value of 2 * NR
  panel_gather = 4,   // anything else
};
constexpr int kMaxRuns = 4;

// The unit's buffer, offset tables and panel plans, in this thread's scratch workspace.
template <class T>
struct Unit {
  const T* base;         // the padded input rows: image i, channel c, row r at
  int64_t ld, plane;     //   base + i * image + c * plane + r * ld
  int64_t image;
  int64_t pixels;        // output pixels of the unit (images x band rows x OW)
  int64_t *off, *koff;   // pixel offsets, column offsets
  unsigned char* kind;   // per NR panel of pixels
  unsigned char* cut;    // panel_runs(2): lanes where runs 1..3 start (NR: no such run)
  int64_t* start;        // panel_runs(2): run r reads base + start[r] + lane (lane: 0..NR-1)
  T* extra;              // `extra_elems` more values for the caller (64-byte aligned)
};

// Copies the unit's input rows and builds its tables (the returned Unit), with room for
// extra_elems more values, in this thread's scratch workspace.
template <class V, class T = typename V::T>
Unit<T> unit_work(const Conv2dGeometry& g, const T* x, int64_t images, int64_t oh0, int64_t oh1, int nr,
                  int64_t extra_elems) {
  const int64_t channels = g.c / g.groups, K = channels * g.kh * g.kw;
  const int64_t rows = band_in_rows(g, oh0, oh1), cols = band_in_cols(g), plane = rows * cols;
  const int64_t img_pixels = (oh1 - oh0) * g.ow, pixels = images * img_pixels, tiles = (pixels + nr - 1) / nr;
  auto align = [](int64_t bytes) { return (bytes + 63) / 64 * 64; };
  const int64_t buf_bytes = align((images * channels * plane + 2 * nr) * int64_t(sizeof(T)));
  const int64_t tab_bytes = align((pixels + K + tiles * kMaxRuns) * int64_t(sizeof(int64_t)) + tiles * (1 + kMaxRuns));
  const int64_t extra_bytes = align(extra_elems * int64_t(sizeof(T)));
  char* ws = static_cast<char*>(
      thread_workspace(WorkspaceSlot::scratch, static_cast<std::size_t>(buf_bytes + tab_bytes + extra_bytes)));
  Unit<T> u;
  T* buf = reinterpret_cast<T*>(ws);
  const int64_t image_in = int64_t(g.c) * g.h * g.w;  // the input's image stride
  for (int64_t i = 0; i < images; ++i)
    padded_band<V>(g, x + i * image_in, channels, oh0, oh1, buf + i * channels * plane);
  std::memset(buf + images * channels * plane, 0, 2 * nr * sizeof(T));  // the slack
  u.base = buf;
  u.ld = cols;
  u.plane = plane;
  u.image = channels * plane;
  u.pixels = pixels;
  u.off = reinterpret_cast<int64_t*>(ws + buf_bytes);
  u.koff = u.off + pixels;
  u.start = u.koff + K;
  u.kind = reinterpret_cast<unsigned char*>(u.start + tiles * kMaxRuns);
  u.cut = u.kind + tiles;
  u.extra = reinterpret_cast<T*>(ws + buf_bytes + tab_bytes);

  for (int64_t i = 0, q = 0; i < images; ++i)
    for (int64_t oh = 0; oh < oh1 - oh0; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow) u.off[q++] = i * u.image + oh * g.stride_h * cols + ow * g.stride_w;
  int64_t k = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) u.koff[k++] = c * plane + ki * g.dil_h * cols + kj * g.dil_w;
  // Offsets rise by >= 1 per pixel, so a panel whose first and last offsets differ by
  // NR - 1 is one run; otherwise it is cut where the offsets jump. A run that starts at
  // lane j with offset o reads base + (o - j) + lane, >= 0 and at most NR values past the
  // last pixel (the buffer's slack); lanes past the last pixel (the last panel) read on.
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t q = t * nr, n = pixels - q < nr ? pixels - q : nr;
    unsigned char* cut = u.cut + t * (kMaxRuns - 1);
    int64_t* start = u.start + t * kMaxRuns;
    if (n == nr && u.off[q + nr - 1] - u.off[q] == nr - 1) {
      u.kind[t] = panel_run;
      continue;
    }
    if (g.stride_w == 2 && n == nr && u.off[q + nr - 1] - u.off[q] == 2 * (nr - 1)) {
      u.kind[t] = panel_stride2;
      continue;
    }
    int runs = 0;
    bool ok = g.stride_w == 1;
    for (int64_t j = 0; j < n && ok; ++j)
      if (j == 0 || u.off[q + j] != u.off[q + j - 1] + 1) {
        if (runs == kMaxRuns) {
          ok = false;
          break;
        }
        if (runs > 0) cut[runs - 1] = static_cast<unsigned char>(j);
        start[runs++] = u.off[q + j] - j;
      }
    if (!ok) {
      u.kind[t] = panel_gather;
      continue;
    }
    u.kind[t] = runs <= 2 ? panel_runs2 : panel_runs;
    for (int r = runs; r < kMaxRuns; ++r) {
      if (r > 0) cut[r - 1] = static_cast<unsigned char>(nr);
      start[r] = start[runs - 1];
    }
  }
  return u;
}

// B block for the forward pass: columns [k0, k0 + kc) of the virtual im2col matrix (koff
// points at koff[k0]) times pixels [q0, q0 + nc) (q0 a multiple of NR), as kc x NR
// micro-panels.
template <class V, int NR>
void pack_b_image(const Unit<typename V::T>& u, const int64_t* koff, int64_t kc, int64_t q0, int64_t nc,
                  typename V::T* __restrict dst) {
  using T = typename V::T;
  constexpr int W = V::W;
  const T* base = u.base;
  const int64_t tiles = (nc + NR - 1) / NR;
  for (int64_t t = 0; t < tiles; ++t) {  // each panel written front to back
    T* __restrict d = dst + t * kc * NR;
    const int64_t q = q0 + t * NR, pt = q / NR;
    switch (u.kind[pt]) {
      case panel_run: {
        const T* s = base + u.off[q];
        for (int64_t p = 0; p < kc; ++p, d += NR) {
          const T* sp = s + koff[p];
#pragma GCC unroll 8
          for (int j = 0; j < NR; j += W) V::store(d + j, V::loadu(sp + j));
        }
        break;
      }
      case panel_runs2: {
        const int64_t* st = u.start + pt * kMaxRuns;
        const int c1 = u.cut[pt * (kMaxRuns - 1)];
        for (int64_t p = 0; p < kc; ++p, d += NR) {
          const T* __restrict s0 = base + st[0] + koff[p];
          const T* __restrict s1 = base + st[1] + koff[p];
#pragma omp simd
          for (int j = 0; j < NR; ++j) {
            const T v0 = s0[j], v1 = s1[j];
            d[j] = j < c1 ? v0 : v1;
          }
        }
        break;
      }
      case panel_runs: {
        const unsigned char* cut = u.cut + pt * (kMaxRuns - 1);
        const int64_t* st = u.start + pt * kMaxRuns;
        const int c1 = cut[0], c2 = cut[1], c3 = cut[2];
        for (int64_t p = 0; p < kc; ++p, d += NR) {
          const T* __restrict s0 = base + st[0] + koff[p];
          const T* __restrict s1 = base + st[1] + koff[p];
          const T* __restrict s2 = base + st[2] + koff[p];
          const T* __restrict s3 = base + st[3] + koff[p];
#pragma omp simd
          for (int j = 0; j < NR; ++j) {  // every load is in bounds: blends, no masked loads
            const T v0 = s0[j], v1 = s1[j], v2 = s2[j], v3 = s3[j];
            d[j] = j < c1 ? v0 : j < c2 ? v1 : j < c3 ? v2 : v3;
          }
        }
        break;
      }
      case panel_stride2: {
        const T* s = base + u.off[q];
        for (int64_t p = 0; p < kc; ++p, d += NR) {
          const T* __restrict sp = s + koff[p];
#pragma omp simd
          for (int j = 0; j < NR; ++j) d[j] = sp[2 * j];
        }
        break;
      }
      default: {
        const int64_t cols = nc - t * NR < NR ? nc - t * NR : NR;
        const int64_t* o = u.off + q;
        for (int64_t p = 0; p < kc; ++p, d += NR) {
          const T* sp = base + koff[p];
          for (int64_t j = 0; j < cols; ++j) d[j] = sp[o[j]];
          for (int64_t j = cols; j < NR; ++j) d[j] = T(0);
        }
      }
    }
  }
}

// One A micro-panel for the weight gradient: `rows` columns of the virtual im2col matrix
// (koff points at the first) over pixels [p0, p0 + kc), row r at dst + r * ld_panel;
// copied in runs along output rows (units start at an output row and hold whole rows, so
// pixel q is in column q % OW). Runs are copied a whole vector at a time: the excess lands
// where the next run (or row) writes next, or in the panel's slack (W values), and reads
// stay within the unit buffer's slack.
template <class V>
PYFASTNN_INLINE_COPIES void pack_a_image(const Conv2dGeometry& g, const Unit<typename V::T>& u, const int64_t* koff, int rows, int64_t p0,
                  int64_t kc, int64_t ld_panel, typename V::T* __restrict dst) {
  using T = typename V::T;
  constexpr int W = V::W;
  const int64_t OW = g.ow, sw = g.stride_w, pe = p0 + kc, ow0 = p0 % OW;
  for (int r = 0; r < rows; ++r) {
    const T* src = u.base + koff[r];
    T* d = dst + r * ld_panel - p0;
    for (int64_t q = p0, ow = ow0; q < pe; ow = 0) {  // runs: the rest of a row, then whole rows
      const int64_t len = OW - ow < pe - q ? OW - ow : pe - q;
      const T* s = src + u.off[q];
      T* dd = d + q;
      if (sw == 1) {
        for (int64_t j = 0; j < len; j += W) V::storeu(dd + j, V::loadu(s + j));
      } else {
        for (int64_t j = 0; j < len; ++j) dd[j] = s[j * sw];
      }
      q += len;
    }
  }
}

// Row tiles of an M-row A operand: MR rows each, except that a thin remainder (under MR / 2
// rows: too few accumulators to hide the FMA latency) shares the last two tiles evenly with
// its neighbour (M = 32, MR = 6: 6 6 6 6 4 4 rather than 6 6 6 6 6 2).
template <int MR>
struct RowTiles {
  int64_t total, count, pair;  // pair: where the split last two tiles start, or -1
  explicit RowTiles(int64_t m) : total(m), count((m + MR - 1) / MR), pair(-1) {
    if (count >= 2 && 2 * (m - (count - 1) * MR) < MR) pair = (count - 2) * MR;
  }
  int64_t start(int64_t i) const { return pair >= 0 && i == count - 1 ? pair + (total - pair + 1) / 2 : i * MR; }
  int rows(int64_t i) const {
    if (pair >= 0 && i >= count - 2) return static_cast<int>(i == count - 2 ? (total - pair + 1) / 2 : (total - pair) / 2);
    return static_cast<int>(total - i * MR < MR ? total - i * MR : MR);
  }
};

// Output rows [oh0, oh1) of `images` consecutive images of one group: x the first image's
// group input planes, w the group's (OC/groups) x K weights, y the first image's group
// output planes (OH x OW each), bias OC/groups values or null, act 0 none / 1 relu. With
// more than one image the unit holds whole images (oh0 = 0, oh1 = OH).
template <class Cfg>
void implicit_forward(const Conv2dGeometry& g, const typename Cfg::T* x, const typename Cfg::T* w,
                      const typename Cfg::T* bias, int act, int64_t images, int64_t oh0, int64_t oh1,
                      typename Cfg::T* y) {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  constexpr int LD_PANEL = static_cast<int>(Cfg::KC);
  constexpr int64_t PITCH = MR * LD_PANEL + 16;
  // pixels per B block: kc x nc values of packed panels stay in L2 next to W and the band
  constexpr int64_t NC = (Cfg::NC / 2 + NR - 1) / NR * NR;
  using Fn = typename MicroKernelTable<V, MR, Cfg::NRV, ALayout::row_major, LD_PANEL>::Fn;
  static constexpr MicroKernelTable<V, MR, Cfg::NRV, ALayout::row_major, LD_PANEL> packed{};
  const int64_t Cg = g.c / g.groups, M = g.oc / g.groups, K = Cg * g.kh * g.kw, OHW = g.oh * g.ow;
  const int64_t img_pixels = (oh1 - oh0) * g.ow, image_out = int64_t(g.oc) * OHW;
  const RowTiles<MR> tiles_m(M);
  const int64_t m_tiles = tiles_m.count;
  if (img_pixels <= 0 || M <= 0 || images <= 0) return;
  const int64_t KC = balanced_block(K, Cfg::KC, 8), k_blocks = K > 0 ? (K + KC - 1) / KC : 0;
  // several images: the product goes to an M x NC buffer, then out to each image's planes
  const bool staged = images > 1;
  const Unit<T> u = unit_work<V>(g, x, images, oh0, oh1, NR, staged ? M * NC : 0);
  const int64_t P = u.pixels;
  T* b_pack = thread_workspace_as<T>(WorkspaceSlot::gemm_b, static_cast<std::size_t>(NC * (KC > 0 ? KC : 1)));
  // W is read in place, as the GEMM reads A, unless its rows alias in L1 (a multiple of
  // 4 KiB apart) or the tile is too tall for that (then: packed panels)
  const Fn(*kernels)[Cfg::NRV] = packed.fn;
  const T* a_pack = w;
  int64_t a_ld = K;
  bool direct = false;
  if constexpr (Cfg::DIRECT_A) {
    static constexpr MicroKernelTable<V, MR, Cfg::NRV, ALayout::row_major, 0> in_place{};
    if ((K * int64_t(sizeof(T))) % 4096 != 0) {
      kernels = in_place.fn;
      direct = true;
    }
  }
  if (!direct && k_blocks > 0) {
    T* a = thread_workspace_as<T>(WorkspaceSlot::gemm_a, static_cast<std::size_t>(k_blocks * m_tiles * PITCH + 16));
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const int64_t pc = kb * KC, kc = min64(KC, K - pc);
      for (int64_t mt = 0; mt < m_tiles; ++mt)
        pack_a_panels<T, MR>(false, w + tiles_m.start(mt) * K + pc, K, tiles_m.rows(mt), kc, 0, 1, LD_PANEL, PITCH,
                             a + (kb * m_tiles + mt) * PITCH);
    }
    a_pack = a;
    a_ld = LD_PANEL;
  }
  for (int64_t jc = 0; jc < P; jc += NC) {
    const int64_t nc = min64(NC, P - jc), tiles = (nc + NR - 1) / NR;
    T* cb = staged ? u.extra : y + oh0 * g.ow + jc;  // C block, row o at cb + o * ldc
    const int64_t ldc = staged ? nc : OHW;
    for (int64_t o = 0; o < M; ++o) {  // C starts as the bias: every K block accumulates
      T* cr = cb + o * ldc;
      const T b = bias ? bias[o] : T(0);
      for (int64_t j = 0; j < nc; ++j) cr[j] = b;
      if (K == 0 && act)
        for (int64_t j = 0; j < nc; ++j) cr[j] = cr[j] < T(0) ? T(0) : cr[j];
    }
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const int64_t pc = kb * KC, kc = min64(KC, K - pc);
      const int a = kb == k_blocks - 1 ? act : 0;
      pack_b_image<V, NR>(u, u.koff + pc, kc, jc, nc, b_pack);
      for (int64_t mt = 0; mt < m_tiles; ++mt) {
        const int rows = tiles_m.rows(mt);
        const int64_t m0 = tiles_m.start(mt);
        const T* ap = direct ? a_pack + m0 * K + pc : a_pack + (kb * m_tiles + mt) * PITCH;
        T* c = cb + m0 * ldc;
        for (int64_t t = 0; t < tiles; ++t) {
          const int cols = static_cast<int>(min64(NR, nc - t * NR));
          kernels[rows - 1][(cols - 1) / V::W](kc, ap, a_ld, b_pack + t * NR * kc, c + t * NR, ldc, T(1), T(1), cols,
                                               nullptr, a);
        }
      }
    }
    if (staged)  // pixels [jc, jc + nc) of the unit: runs of whole images' pixels
      for (int64_t q = jc; q < jc + nc;) {
        const int64_t i = q / img_pixels, p = q - i * img_pixels, len = min64(img_pixels - p, jc + nc - q);
        for (int64_t o = 0; o < M; ++o)
          std::memcpy(y + i * image_out + o * OHW + p, cb + o * ldc + (q - jc), sizeof(T) * len);
        q += len;
      }
  }
}

// dwt (K x OC/groups, row-major) += cols * gz^T over output rows [oh0, oh1) of `images`
// consecutive images of one group: x the first image's group input planes, gz its
// OC/groups output-gradient planes (OH x OW each).
template <class Cfg>
void implicit_dweight(const Conv2dGeometry& g, const typename Cfg::T* x, const typename Cfg::T* gz, int64_t images,
                      int64_t oh0, int64_t oh1, typename Cfg::T* dwt) {
  using T = typename Cfg::T;
  using V = typename Cfg::V;
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  constexpr int LD_PANEL = static_cast<int>(Cfg::KC);
  constexpr int64_t NC = Cfg::NC;
  static constexpr MicroKernelTable<V, MR, Cfg::NRV, ALayout::row_major, LD_PANEL> table{};
  const int64_t Cg = g.c / g.groups, N = g.oc / g.groups, K = Cg * g.kh * g.kw, OHW = g.oh * g.ow;
  const int64_t img_pixels = (oh1 - oh0) * g.ow, image_out = int64_t(g.oc) * OHW;
  const RowTiles<MR> tiles_m(K);
  const int64_t m_tiles = tiles_m.count;
  if (img_pixels <= 0 || N <= 0 || K <= 0 || images <= 0) return;
  const Unit<T> u = unit_work<V>(g, x, images, oh0, oh1, NR, 0);
  const int64_t P = u.pixels, KC = balanced_block(P, Cfg::KC, 8);
  T* a_panel = thread_workspace_as<T>(WorkspaceSlot::gemm_a, static_cast<std::size_t>(MR * LD_PANEL + 2 * V::W));
  T* b_pack = thread_workspace_as<T>(WorkspaceSlot::gemm_b,
                                     static_cast<std::size_t>(((min64(NC, N) + NR - 1) / NR) * NR * KC));
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = min64(NC, N - jc), tiles = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < P; pc += KC) {
      const int64_t kc = min64(KC, P - pc);
      // gz^T rows pc .. pc + kc (pixels), columns jc .. jc + nc (channels), image by image
      for (int64_t q = pc; q < pc + kc;) {
        const int64_t i = q / img_pixels, p = q - i * img_pixels, len = min64(img_pixels - p, pc + kc - q);
        const T* src = gz + i * image_out + jc * OHW + oh0 * g.ow + p;
        for (int64_t t = 0; t < tiles; ++t)
          pack_bt_panel<T, NR>(src + t * NR * OHW, OHW, static_cast<int>(min64(NR, nc - t * NR)), len,
                               b_pack + t * NR * kc + (q - pc) * NR);
        q += len;
      }
      for (int64_t mt = 0; mt < m_tiles; ++mt) {
        const int rows = tiles_m.rows(mt);
        const int64_t m0 = tiles_m.start(mt);
        pack_a_image<V>(g, u, u.koff + m0, rows, pc, kc, LD_PANEL, a_panel);
        T* c = dwt + m0 * N + jc;
        for (int64_t t = 0; t < tiles; ++t) {
          const int cols = static_cast<int>(min64(NR, nc - t * NR));
          table.fn[rows - 1][(cols - 1) / V::W](kc, a_panel, 0, b_pack + t * NR * kc, c + t * NR, N, T(1), T(1),
                                                cols, nullptr, 0);
        }
      }
    }
  }
}

}  // namespace conv_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
