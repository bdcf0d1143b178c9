// Convolution drivers: the algorithm choice per shape, the work split over threads, the
// GEMM calls of the im2col and 1x1 paths, and the depthwise path (conv.h describes them).
#include "pyfastnn/conv.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "conv/conv_impl.h"
#include "pyfastnn/isa.h"
#include "pyfastnn/workspace.h"

namespace pyfastnn {
namespace {

// im2col works on bands of output rows whose columns fill about this much memory, so the
// GEMM's packing reads them back from L2 instead of memory (a whole image's columns, e.g.
// 576 x 3136 floats = 7 MiB for 64 channels at 56x56, would not stay in any cache).
constexpr int64_t kBandBytes = int64_t(192) << 10;
// ... but at least this many columns per band, so the GEMM's column blocks stay wide.
constexpr int64_t kMinBandCols = 96;
// Fewest input and output channels, and fewest 2x2 tiles, for which `automatic` picks
// Winograd (measured: 196 tiles of 32 channels break even, 49 tiles run at 0.6x).
constexpr int64_t kWinogradMinChannels = 32;
constexpr int64_t kWinogradMinTiles = 256;
// Fewest multiply-adds worth waking a second thread for.
constexpr double kParallelFlops = 2.0e6;

const ConvKernelTable& table() { return PYFASTNN_ISA_SELECT(conv_kernels); }
ConvIm2colFn<float> im2col_fn(const float*) { return table().im2col_f32; }
ConvIm2colFn<double> im2col_fn(const double*) { return table().im2col_f64; }
ConvCol2imFn<float> col2im_fn(const float*) { return table().col2im_f32; }
ConvCol2imFn<double> col2im_fn(const double*) { return table().col2im_f64; }
ConvActGradFn<float> act_grad_fn(const float*) { return table().act_grad_f32; }
ConvActGradFn<double> act_grad_fn(const double*) { return table().act_grad_f64; }
ConvDwForwardFn<float> dw_forward_fn(const float*) { return table().dw_forward_f32; }
ConvDwForwardFn<double> dw_forward_fn(const double*) { return table().dw_forward_f64; }
ConvDwBackwardFn<float> dw_backward_fn(const float*) { return table().dw_backward_f32; }
ConvDwBackwardFn<double> dw_backward_fn(const double*) { return table().dw_backward_f64; }
ConvImplicitFwdFn<float> implicit_fwd_fn(const float*) { return table().implicit_fwd_f32; }
ConvImplicitFwdFn<double> implicit_fwd_fn(const double*) { return table().implicit_fwd_f64; }
ConvImplicitDwFn<float> implicit_dw_fn(const float*) { return table().implicit_dw_f32; }
ConvImplicitDwFn<double> implicit_dw_fn(const double*) { return table().implicit_dw_f64; }
ConvWinogradWeightsFn<float> winograd_weights_fn(const float*) { return table().winograd_weights_f32; }
ConvWinogradWeightsFn<double> winograd_weights_fn(const double*) { return table().winograd_weights_f64; }
ConvWinogradFwdFn<float> winograd_fwd_fn(const float*) { return table().winograd_fwd_f32; }
ConvWinogradFwdFn<double> winograd_fwd_fn(const double*) { return table().winograd_fwd_f64; }
ConvWinogradDwFn<float> winograd_dw_fn(const float*) { return table().winograd_dw_f32; }
ConvWinogradDwFn<double> winograd_dw_fn(const double*) { return table().winograd_dw_f64; }

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

double conv_flops(const Conv2dGeometry& g) {
  return 2.0 * double(g.n) * double(g.oc) * double(g.c / g.groups) * double(g.kh * g.kw) * double(g.oh * g.ow);
}

int useful_threads(const Conv2dGeometry& g, int num_threads) {
  if (num_threads <= 1 || conv_flops(g) < kParallelFlops) return 1;
  return num_threads;
}

// Output rows per im2col band: columns of about kBandBytes, bands of equal height.
int64_t band_rows(const Conv2dGeometry& g, int64_t k_rows, std::size_t elem) {
  if (g.oh <= 0) return 1;
  if (g.band_rows > 0) return std::min(g.band_rows, g.oh);
  const int64_t row_bytes = std::max<int64_t>(1, k_rows * g.ow * static_cast<int64_t>(elem));
  int64_t rows = std::max<int64_t>(1, kBandBytes / row_bytes);
  rows = std::max(rows, ceil_div(kMinBandCols, std::max<int64_t>(g.ow, 1)));
  if (rows >= g.oh) return g.oh;
  return ceil_div(g.oh, ceil_div(g.oh, rows));
}

// Output rows per implicit-GEMM band: the padded input rows a band reads (every channel of
// its group) fill about kBandBytes, and there are at least `min_bands` bands (so that a
// batch smaller than the thread count still keeps every thread busy).
int64_t implicit_band_rows(const Conv2dGeometry& g, std::size_t elem, int64_t min_bands) {
  if (g.oh <= 0) return 1;
  if (g.band_rows > 0) return std::min(g.band_rows, g.oh);
  const int64_t cols = (g.ow - 1) * g.stride_w + g.dil_w * (g.kw - 1) + 1, ext = g.dil_h * (g.kh - 1) + 1;
  const int64_t row_bytes = std::max<int64_t>(1, (g.c / g.groups) * cols * static_cast<int64_t>(elem));
  const int64_t in_rows = kBandBytes / row_bytes;
  int64_t rows = in_rows > ext ? (in_rows - ext) / g.stride_h + 1 : 1;
  rows = std::max(rows, ceil_div(kMinBandCols, std::max<int64_t>(g.ow, 1)));
  const int64_t bands = std::max(ceil_div(g.oh, std::min(rows, g.oh)), std::min(min_bands, g.oh));
  return ceil_div(g.oh, bands);
}

// How the implicit GEMM cuts the work: bands of `rows` output rows; with one band per image,
// `images` consecutive images per unit when images are small (a unit of at least
// kUnitPixels output pixels amortizes its setup and fills its last panel), as long as their
// input rows fit the band budget and every thread still gets a unit.
constexpr int64_t kUnitPixels = 384;
struct ImplicitSplit {
  int64_t rows, bands, images, chunks, units;
};

ImplicitSplit implicit_split(const Conv2dGeometry& g, std::size_t elem, int threads) {
  ImplicitSplit s;
  s.rows = implicit_band_rows(g, elem, ceil_div(threads, g.n * g.groups));
  s.bands = ceil_div(g.oh, s.rows);
  s.images = 1;
  if (s.bands == 1 && g.band_rows == 0) {
    const int64_t in_rows = (g.oh - 1) * g.stride_h + g.dil_h * (g.kh - 1) + 1;
    const int64_t in_cols = (g.ow - 1) * g.stride_w + g.dil_w * (g.kw - 1) + 1;
    const int64_t image_bytes = std::max<int64_t>(1, (g.c / g.groups) * in_rows * in_cols * int64_t(elem));
    int64_t images = ceil_div(kUnitPixels, std::max<int64_t>(1, g.oh * g.ow));
    images = std::min(images, std::max<int64_t>(1, kBandBytes / image_bytes));
    images = std::min(images, std::max<int64_t>(1, g.n / ceil_div(threads, g.groups)));
    s.images = std::max<int64_t>(1, images);
  }
  s.chunks = ceil_div(g.n, s.images);
  s.units = s.chunks * g.groups * s.bands;
  return s;
}

ConvAlgo resolve(const Conv2dGeometry& g) {
  return g.algo == ConvAlgo::automatic ? conv2d_choose_algo(g) : g.algo;
}

// ---------------------------------------------------------------- im2col and 1x1 (GEMM)

template <class T>
void forward_gemm(const Conv2dGeometry& g, bool direct, const T* x, const T* w, const T* bias, GemmActivation act,
                  T* y, int threads) {
  const int64_t G = g.groups, Cg = g.c / G, OCg = g.oc / G, Kg = Cg * g.kh * g.kw;
  const int64_t HW = g.h * g.w, OHW = g.oh * g.ow;
  const int64_t rows = direct ? g.oh : band_rows(g, Kg + (bias ? 1 : 0), sizeof(T));
  const int64_t bands = ceil_div(g.oh, rows);
  // With im2col the bias rides along as an extra column of the weights times a row of ones
  // under the columns: the GEMM adds it (and applies the ReLU) as it stores y.
  std::unique_ptr<T, FreeDeleter> w_aug;
  const T* wa = w;
  int64_t lda = Kg;
  if (bias && !direct) {
    lda = Kg + 1;
    w_aug = alloc_array<T>(g.oc * lda);
    for (int64_t o = 0; o < g.oc; ++o) {
      std::memcpy(w_aug.get() + o * lda, w + o * Kg, sizeof(T) * Kg);
      w_aug.get()[o * lda + Kg] = bias[o];
    }
    wa = w_aug.get();
  }
  const auto im2col = im2col_fn(x);
  auto unit = [&](int64_t u, int gemm_threads) {
    const int64_t band = u % bands, ng = u / bands, grp = ng % G, n = ng / G;
    const int64_t oh0 = band * rows, oh1 = std::min(oh0 + rows, g.oh), cols = (oh1 - oh0) * g.ow;
    T* yc = y + (n * g.oc + grp * OCg) * OHW + oh0 * g.ow;
    const T* xg = x + (n * g.c + grp * Cg) * HW;
    GemmArgs<T> a;
    a.m = OCg;
    a.n = cols;
    a.k = lda;
    a.a = wa + grp * OCg * lda;
    a.lda = lda;
    a.c = yc;
    a.ldc = OHW;
    a.act = act;
    if (direct) {  // the input is the column matrix
      a.b = xg + oh0 * g.ow;
      a.ldb = HW;
      if (bias) {  // y starts as the bias, the GEMM adds the product to it
        for (int64_t o = 0; o < OCg; ++o) std::fill(yc + o * OHW, yc + o * OHW + cols, bias[grp * OCg + o]);
        a.beta = T(1);
      }
    } else {
      T* col = thread_workspace_as<T>(WorkspaceSlot::scratch, static_cast<std::size_t>(lda * cols));
      im2col(g, xg, Cg, oh0, oh1, col, cols);
      if (lda > Kg) std::fill(col + Kg * cols, col + (Kg + 1) * cols, T(1));
      a.b = col;
      a.ldb = cols;
    }
    gemm(a, gemm_threads);
  };
  const int64_t units = g.n * G * bands;
  if (threads > 1 && units >= threads) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) unit(u, 1);
  } else {
    for (int64_t u = 0; u < units; ++u) unit(u, threads);
  }
}

// The backward pass on the GEMM. Images are split into contiguous ranges, one per thread,
// each thread accumulating its own dw/db partial sums (added in thread order at the end);
// with fewer images than threads they run one after another on GEMMs using every thread.
// `dx_bias` (C values or null) initialises each dx plane (the transposed convolution's bias).
template <class T>
void backward_gemm(const Conv2dGeometry& g, bool direct, const T* x, const T* w, const T* y, const T* gy,
                   GemmActivation act, const Conv2dGrads<T>& grads, const T* dx_bias, int threads) {
  const int64_t G = g.groups, Cg = g.c / G, OCg = g.oc / G, Kg = Cg * g.kh * g.kw;
  const int64_t HW = g.h * g.w, OHW = g.oh * g.ow;
  const bool need_dx = grads.dx != nullptr, need_dw = grads.dw != nullptr, need_db = grads.db != nullptr;
  const bool relu = act == GemmActivation::relu;
  const bool need_gz = need_dx || need_dw;
  const int64_t rows = direct ? g.oh : band_rows(g, Kg, sizeof(T));
  const int64_t bands = ceil_div(g.oh, rows);
  const bool by_image = threads > 1 && g.n >= threads;
  const int parts = by_image ? threads : 1;
  const int gemm_threads = by_image ? 1 : threads;

  // partial sums: thread 0 writes dw itself, thread t > 0 into dw_part + (t - 1) * size
  const int64_t wsize = g.oc * Kg;
  std::unique_ptr<T, FreeDeleter> dw_part;
  if (need_dw) {
    std::fill(grads.dw, grads.dw + wsize, T(0));
    if (parts > 1) {
      dw_part = alloc_array<T>((parts - 1) * wsize);
      std::fill(dw_part.get(), dw_part.get() + (parts - 1) * wsize, T(0));
    }
  }
  std::vector<double> db_part(need_db ? static_cast<std::size_t>(parts * g.oc) : 0, 0.0);

  const auto im2col = im2col_fn(x);
  const auto col2im = col2im_fn(x);
  const auto act_grad = act_grad_fn(x);
  const int64_t col_size = direct ? 0 : Kg * rows * g.ow;
  const int64_t gz_size = relu && need_gz ? g.oc * OHW : 0;

  auto image = [&](int64_t n, int part) {
    double* db = need_db ? db_part.data() + part * g.oc : nullptr;
    T* dw = !need_dw ? nullptr : part == 0 ? grads.dw : dw_part.get() + (part - 1) * wsize;
    T* work = thread_workspace_as<T>(WorkspaceSlot::scratch, static_cast<std::size_t>(col_size + gz_size + 16));
    T* col = work;
    const T* gyn = gy + n * g.oc * OHW;
    const T* gz = gyn;
    if (relu && need_gz) {
      T* gzn = work + (col_size + 15) / 16 * 16;
      act_grad(g.oc, OHW, y + n * g.oc * OHW, gyn, gzn, db, 1);
      gz = gzn;
    } else if (need_db) {
      act_grad(g.oc, OHW, relu ? y + n * g.oc * OHW : nullptr, gyn, nullptr, db, relu ? 1 : 0);
    }
    if (!need_gz) return;
    T* dxn = need_dx ? grads.dx + n * g.c * HW : nullptr;
    if (need_dx && !direct) {  // col2im accumulates into dx
      for (int64_t c = 0; c < g.c; ++c) std::fill(dxn + c * HW, dxn + (c + 1) * HW, dx_bias ? dx_bias[c] : T(0));
    }
    for (int64_t grp = 0; grp < G; ++grp) {
      const T* xg = x ? x + (n * g.c + grp * Cg) * HW : nullptr;
      const T* wg = w + grp * OCg * Kg;
      for (int64_t band = 0; band < bands; ++band) {
        const int64_t oh0 = band * rows, oh1 = std::min(oh0 + rows, g.oh), cols = (oh1 - oh0) * g.ow;
        const T* gzc = gz + grp * OCg * OHW + oh0 * g.ow;
        if (need_dw) {  // dw += gz cols^T
          const T* colp = xg + oh0 * g.ow;
          int64_t ldcol = HW;
          if (!direct) {
            im2col(g, xg, Cg, oh0, oh1, col, cols);
            colp = col;
            ldcol = cols;
          }
          GemmArgs<T> a;
          a.trans_b = true;
          a.m = OCg;
          a.n = Kg;
          a.k = cols;
          a.a = gzc;
          a.lda = OHW;
          a.b = colp;
          a.ldb = ldcol;
          a.beta = T(1);
          a.c = dw + grp * OCg * Kg;
          a.ldc = Kg;
          gemm(a, gemm_threads);
        }
        if (need_dx) {  // dcols = W^T gz, then col2im (1x1: straight into dx)
          GemmArgs<T> a;
          a.trans_a = true;
          a.m = Kg;
          a.n = cols;
          a.k = OCg;
          a.a = wg;
          a.lda = Kg;
          a.b = gzc;
          a.ldb = OHW;
          if (direct) {
            T* dxg = dxn + grp * Cg * HW + oh0 * g.ow;
            if (dx_bias) {
              for (int64_t c = 0; c < Cg; ++c)
                std::fill(dxg + c * HW, dxg + c * HW + cols, dx_bias[grp * Cg + c]);
              a.beta = T(1);
            }
            a.c = dxg;
            a.ldc = HW;
            gemm(a, gemm_threads);
          } else {
            a.c = col;
            a.ldc = cols;
            gemm(a, gemm_threads);
            col2im(g, col, cols, Cg, oh0, oh1, dxn + grp * Cg * HW);
          }
        }
      }
    }
  };

  if (by_image && !need_dw && !need_db) {  // images are independent: balance them dynamically
#pragma omp parallel for num_threads(parts) schedule(dynamic, 1)
    for (int64_t n = 0; n < g.n; ++n) image(n, 0);
  } else if (by_image) {
#pragma omp parallel num_threads(parts)
    {  // range t of the images, with its own partial sums (a smaller team takes several)
      for (int t = omp_get_thread_num(); t < parts; t += omp_get_num_threads()) {
        const int64_t n0 = g.n * t / parts, n1 = g.n * (t + 1) / parts;
        for (int64_t n = n0; n < n1; ++n) image(n, t);
      }
    }
  } else {
    for (int64_t n = 0; n < g.n; ++n) image(n, 0);
  }
  if (need_dw && parts > 1) {
    for (int p = 1; p < parts; ++p) {
      const T* src = dw_part.get() + (p - 1) * wsize;
      T* dst = grads.dw;
#pragma omp simd
      for (int64_t i = 0; i < wsize; ++i) dst[i] += src[i];
    }
  }
  if (need_db) {
    for (int64_t o = 0; o < g.oc; ++o) {
      double s = 0;
      for (int p = 0; p < parts; ++p) s += db_part[p * g.oc + o];
      grads.db[o] = static_cast<T>(s);
    }
  }
}

// ---------------------------------------------------------------- implicit GEMM

template <class T>
void forward_implicit(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, GemmActivation act, T* y,
                      int threads) {
  const int64_t G = g.groups, Cg = g.c / G, OCg = g.oc / G, Kg = Cg * g.kh * g.kw;
  const int64_t HW = g.h * g.w, OHW = g.oh * g.ow;
  const ImplicitSplit s = implicit_split(g, sizeof(T), threads);
  const auto fn = implicit_fwd_fn(x);
  auto unit = [&](int64_t u) {
    const int64_t band = u % s.bands, cg = u / s.bands, grp = cg % G, n = cg / G * s.images;
    const int64_t oh0 = band * s.rows, oh1 = std::min(oh0 + s.rows, g.oh);
    fn(g, x + (n * g.c + grp * Cg) * HW, w + grp * OCg * Kg, bias ? bias + grp * OCg : nullptr, static_cast<int>(act),
       std::min(s.images, g.n - n), oh0, oh1, y + (n * g.oc + grp * OCg) * OHW);
  };
  if (threads > 1 && s.units > 1) {
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, s.units))) schedule(dynamic, 1)
    for (int64_t u = 0; u < s.units; ++u) unit(u);
  } else {
    for (int64_t u = 0; u < s.units; ++u) unit(u);
  }
}

// ---------------------------------------------------------------- Winograd F(2x2, 3x3)

// Tiles (2x2 outputs) per work unit: enough for several of the kernel's chunks, and at
// least 4 units per thread when there are that many tiles, handed out dynamically.
constexpr int64_t kWinogradUnitTiles = 1024;

template <class T>
void forward_winograd(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, GemmActivation act, T* y,
                      int threads) {
  if (g.c == 0) return forward_implicit(g, x, w, bias, act, y, threads);  // y = act(bias)
  const auto weights = winograd_weights_fn(x);
  auto u = alloc_array<T>(weights(g, w, nullptr));
  weights(g, w, u.get());
  const int64_t tiles = g.n * ceil_div(g.oh, 2) * ceil_div(g.ow, 2);
  int64_t units = ceil_div(tiles, kWinogradUnitTiles);
  if (threads > 1) units = std::max(units, std::min<int64_t>(4 * threads, ceil_div(tiles, 64)));
  const auto fn = winograd_fwd_fn(x);
  const int a = static_cast<int>(act);
  auto unit = [&](int64_t i) { fn(g, x, u.get(), bias, a, tiles * i / units, tiles * (i + 1) / units, y); };
  if (threads > 1 && units > 1) {
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, units))) schedule(dynamic, 1)
    for (int64_t i = 0; i < units; ++i) unit(i);
  } else {
    for (int64_t i = 0; i < units; ++i) unit(i);
  }
}

// Partial sums of a weight gradient: chunk(c, acc) adds chunk c's share into its own zeroed
// buffer of `size` values; chunks run over `threads` and are added in chunk order into the
// returned buffer's first `size` values, so the sum does not depend on the scheduling.
template <class T, class F>
std::unique_ptr<T, FreeDeleter> sum_of_chunks(int64_t chunks, int64_t size, int threads, F chunk) {
  auto part = alloc_array<T>(chunks * size);
  std::fill(part.get(), part.get() + chunks * size, T(0));
  if (threads > 1 && chunks > 1) {
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, chunks))) schedule(dynamic, 1)
    for (int64_t c = 0; c < chunks; ++c) chunk(c, part.get() + c * size);
  } else {
    for (int64_t c = 0; c < chunks; ++c) chunk(c, part.get() + c * size);
  }
  T* sum = part.get();
  for (int64_t c = 1; c < chunks; ++c) {
    const T* src = part.get() + c * size;
#pragma omp simd
    for (int64_t i = 0; i < size; ++i) sum[i] += src[i];
  }
  return part;
}

// dw from partial sums of dW^T (K x OC/groups per group) over fixed chunks of consecutive
// (images, group, band) units: chunks are handed out dynamically (a thread slowed down by
// another process does not hold the others up) and added in chunk order at the end, so the
// result does not depend on which thread ran which chunk.
constexpr int64_t kDwPartialBytes = int64_t(32) << 20;  // memory for the partial sums

template <class T>
void dweight_implicit(const Conv2dGeometry& g, const T* x, const T* gz, T* dw, int threads) {
  const int64_t G = g.groups, Cg = g.c / G, OCg = g.oc / G, Kg = Cg * g.kh * g.kw;
  const int64_t HW = g.h * g.w, OHW = g.oh * g.ow, wsize = g.oc * Kg;
  const ImplicitSplit s = implicit_split(g, sizeof(T), threads);
  int64_t chunks = threads > 1 ? std::min<int64_t>(s.units, 4 * threads) : 1;
  chunks = std::max<int64_t>(std::min<int64_t>(chunks, kDwPartialBytes / std::max<int64_t>(1, wsize * sizeof(T))),
                             std::min<int64_t>(s.units, threads));
  chunks = std::max<int64_t>(chunks, 1);
  const auto fn = implicit_dw_fn(x);
  auto chunk = [&](int64_t c, T* acc) {
    for (int64_t u = s.units * c / chunks; u < s.units * (c + 1) / chunks; ++u) {
      const int64_t band = u % s.bands, cg = u / s.bands, grp = cg % G, n = cg / G * s.images;
      const int64_t oh0 = band * s.rows, oh1 = std::min(oh0 + s.rows, g.oh);
      fn(g, x + (n * g.c + grp * Cg) * HW, gz + (n * g.oc + grp * OCg) * OHW, std::min(s.images, g.n - n), oh0, oh1,
         acc + grp * Kg * OCg);
    }
  };
  const auto part = sum_of_chunks<T>(chunks, wsize, threads, chunk);
  // dw[grp * OCg + o][k] = dwt[grp][k][o]
  const T* sum = part.get();
  for (int64_t grp = 0; grp < G; ++grp)
    for (int64_t k = 0; k < Kg; ++k) {
      const T* src = sum + (grp * Kg + k) * OCg;
      for (int64_t o = 0; o < OCg; ++o) dw[(grp * OCg + o) * Kg + k] = src[o];
    }
}

// Whether dx of this convolution can run as a forward convolution of gz (stride 1, and the
// flipped kernel's padding d * (k - 1) - pad is not negative).
bool dx_as_forward(const Conv2dGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.pad_h <= g.dil_h * (g.kh - 1) && g.pad_w <= g.dil_w * (g.kw - 1);
}

// Winograd's weight gradient: dU^T (16 x C x OC) summed over tiles by the kernels, as partial
// sums of fixed chunks of tiles (sum_of_chunks),
// then dw[o][c] = G^T dU[o][c] G, the adjoint of the weight transform U = G w G^T with
// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
template <class T>
void dweight_winograd(const Conv2dGeometry& g, const T* x, const T* gz, T* dw, int threads) {
  const int64_t tiles = g.n * ceil_div(g.oh, 2) * ceil_div(g.ow, 2), C = g.c, OC = g.oc, usize = 16 * C * OC;
  int64_t chunks = threads > 1 ? std::min<int64_t>(ceil_div(tiles, 64), 4 * threads) : 1;
  chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, kDwPartialBytes / (usize * int64_t(sizeof(T)))));
  chunks = std::max<int64_t>(1, std::max(chunks, std::min<int64_t>(threads, ceil_div(tiles, 64))));
  const auto fn = winograd_dw_fn(x);
  const auto part = sum_of_chunks<T>(chunks, usize, threads, [&](int64_t c, T* acc) {
    fn(g, x, gz, tiles * c / chunks, tiles * (c + 1) / chunks, acc);
  });
  const T* du = part.get();
  const T h = T(0.5);
  for (int64_t o = 0; o < OC; ++o)
    for (int64_t c = 0; c < C; ++c) {
      T u[4][4], t[3][4];
      for (int xi = 0; xi < 16; ++xi) u[xi / 4][xi % 4] = du[(xi * C + c) * OC + o];
      for (int j = 0; j < 4; ++j) {  // G^T dU: rows u0 + (u1 + u2) / 2, (u1 - u2) / 2, (u1 + u2) / 2 + u3
        t[0][j] = u[0][j] + h * (u[1][j] + u[2][j]);
        t[1][j] = h * (u[1][j] - u[2][j]);
        t[2][j] = h * (u[1][j] + u[2][j]) + u[3][j];
      }
      T* d = dw + (o * C + c) * 9;
      for (int i = 0; i < 3; ++i) {  // (G^T dU) G: the same on columns
        d[i * 3 + 0] = t[i][0] + h * (t[i][1] + t[i][2]);
        d[i * 3 + 1] = h * (t[i][1] - t[i][2]);
        d[i * 3 + 2] = h * (t[i][1] + t[i][2]) + t[i][3];
      }
    }
}

// winograd: dx and dW by Winograd (the flipped kernel is 3x3 at stride 1 too), db as implicit.
template <class T>
void backward_implicit(const Conv2dGeometry& g, const T* x, const T* w, const T* y, const T* gy, GemmActivation act,
                       const Conv2dGrads<T>& grads, const T* dx_bias, bool winograd, int threads) {
  const int64_t G = g.groups, Cg = g.c / G, OCg = g.oc / G, KK = g.kh * g.kw, OHW = g.oh * g.ow;
  const bool need_dx = grads.dx != nullptr, need_dw = grads.dw != nullptr, need_db = grads.db != nullptr;
  const bool relu = act == GemmActivation::relu, need_gz = need_dx || need_dw;
  // gz = gy * relu'(y) and db, channel by channel (each channel's sum in image order)
  const T* gz = gy;
  std::unique_ptr<T, FreeDeleter> gz_buf;
  if (relu && need_gz) {
    gz_buf = alloc_array<T>(g.n * g.oc * OHW);
    gz = gz_buf.get();
  }
  if (need_db || (relu && need_gz)) {
    std::vector<double> sums(static_cast<std::size_t>(g.oc), 0.0);
    const auto act_grad = act_grad_fn(gy);
    T* gzw = relu && need_gz ? gz_buf.get() : nullptr;
    auto channel = [&](int64_t ch) {
      for (int64_t n = 0; n < g.n; ++n) {
        const int64_t o = (n * g.oc + ch) * OHW;
        act_grad(1, OHW, relu ? y + o : nullptr, gy + o, gzw ? gzw + o : nullptr, need_db ? &sums[ch] : nullptr,
                 relu ? 1 : 0);
      }
    };
    if (threads > 1 && g.oc > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t ch = 0; ch < g.oc; ++ch) channel(ch);
    } else {
      for (int64_t ch = 0; ch < g.oc; ++ch) channel(ch);
    }
    if (need_db)
      for (int64_t ch = 0; ch < g.oc; ++ch) grads.db[ch] = static_cast<T>(sums[ch]);
  }
  if (need_dw) {
    if (winograd && g.c > 0)
      dweight_winograd(g, x, gz, grads.dw, threads);
    else
      dweight_implicit(g, x, gz, grads.dw, threads);
  }
  if (!need_dx) return;
  if (!dx_as_forward(g)) {  // GEMM + col2im
    Conv2dGrads<T> only_dx;
    only_dx.dx = grads.dx;
    backward_gemm(g, false, x, w, static_cast<const T*>(nullptr), gz, GemmActivation::none, only_dx, dx_bias, threads);
    return;
  }
  // dx = conv(gz, W') with W'[grp * Cg + c][o] = W[grp * OCg + o][c] flipped in both axes
  auto wt = alloc_array<T>(g.c * OCg * KK);
  for (int64_t grp = 0; grp < G; ++grp)
    for (int64_t o = 0; o < OCg; ++o)
      for (int64_t c = 0; c < Cg; ++c) {
        const T* s = w + ((grp * OCg + o) * Cg + c) * KK;
        T* d = wt.get() + ((grp * Cg + c) * OCg + o) * KK;
        for (int64_t i = 0; i < KK; ++i) d[KK - 1 - i] = s[i];
      }
  Conv2dGeometry t = g;
  t.c = g.oc;
  t.h = g.oh;
  t.w = g.ow;
  t.oc = g.c;
  t.oh = g.h;
  t.ow = g.w;
  t.pad_h = g.dil_h * (g.kh - 1) - g.pad_h;
  t.pad_w = g.dil_w * (g.kw - 1) - g.pad_w;
  if (winograd)
    forward_winograd(t, gz, wt.get(), dx_bias, GemmActivation::none, grads.dx, threads);
  else
    forward_implicit(t, gz, wt.get(), dx_bias, GemmActivation::none, grads.dx, threads);
}

// ---------------------------------------------------------------- depthwise (C / groups == 1)

template <class T>
void forward_depthwise(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, GemmActivation act, T* y,
                       int threads) {
  const int64_t mult = g.oc / g.c, KK = g.kh * g.kw, HW = g.h * g.w, OHW = g.oh * g.ow;
  const auto fn = dw_forward_fn(x);
  const int a = static_cast<int>(act);
  const int64_t units = g.n * g.c;
  auto unit = [&](int64_t u) {
    const int64_t n = u / g.c, c = u % g.c;
    fn(g, x + (n * g.c + c) * HW, w + c * mult * KK, bias ? bias + c * mult : nullptr, mult, a,
       y + (n * g.oc + c * mult) * OHW);
  };
  if (threads > 1 && units > 1) {
#pragma omp parallel for num_threads(std::min<int64_t>(threads, units)) schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) unit(u);
  } else {
    for (int64_t u = 0; u < units; ++u) unit(u);
  }
}

// Work items (image slice, channel): each sums its slice's images for its channel's weights
// into its own float64 accumulators and writes its dx planes; slices are added in order.
template <class T>
void backward_depthwise(const Conv2dGeometry& g, const T* x, const T* w, const T* y, const T* gy,
                        GemmActivation act, const Conv2dGrads<T>& grads, const T* dx_bias, int threads) {
  const int64_t mult = g.oc / g.c, KK = g.kh * g.kw, HW = g.h * g.w, OHW = g.oh * g.ow;
  const bool need_dx = grads.dx != nullptr, need_dw = grads.dw != nullptr, need_db = grads.db != nullptr;
  const bool relu = act == GemmActivation::relu;
  const bool need_gz = need_dx || need_dw;
  const int64_t slices = threads > 1 && g.c < 4 * threads ? std::min<int64_t>(g.n, threads) : 1;
  const int64_t wsize = g.oc * KK;
  std::vector<double> dw_acc(need_dw ? static_cast<std::size_t>(slices * wsize) : 0, 0.0);
  std::vector<double> db_acc(need_db ? static_cast<std::size_t>(slices * g.oc) : 0, 0.0);
  const auto back = dw_backward_fn(x);
  const auto act_grad = act_grad_fn(x);
  const int64_t items = slices * g.c;
  auto item = [&](int64_t it) {
    const int64_t s = it / g.c, c = it % g.c;
    const int64_t n0 = g.n * s / slices, n1 = g.n * (s + 1) / slices;
    double* dwc = need_dw ? dw_acc.data() + s * wsize + c * mult * KK : nullptr;
    double* dbc = need_db ? db_acc.data() + s * g.oc + c * mult : nullptr;
    T* gzbuf = relu && need_gz ? thread_workspace_as<T>(WorkspaceSlot::scratch, static_cast<std::size_t>(mult * OHW))
                               : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      const T* gyc = gy + (n * g.oc + c * mult) * OHW;
      const T* yc = relu ? y + (n * g.oc + c * mult) * OHW : nullptr;
      const T* gz = gyc;
      if (gzbuf) {
        act_grad(mult, OHW, yc, gyc, gzbuf, dbc, 1);
        gz = gzbuf;
      } else if (need_db) {
        act_grad(mult, OHW, yc, gyc, nullptr, dbc, relu ? 1 : 0);
      }
      if (!need_gz) continue;
      T* dxp = need_dx ? grads.dx + (n * g.c + c) * HW : nullptr;
      if (dxp) std::fill(dxp, dxp + HW, dx_bias ? dx_bias[c] : T(0));
      back(g, x ? x + (n * g.c + c) * HW : nullptr, w + c * mult * KK, gz, mult, dxp, dwc);
    }
  };
  if (threads > 1 && items > 1) {
#pragma omp parallel for num_threads(std::min<int64_t>(threads, items)) schedule(dynamic, 1)
    for (int64_t it = 0; it < items; ++it) item(it);
  } else {
    for (int64_t it = 0; it < items; ++it) item(it);
  }
  if (need_dw)
    for (int64_t i = 0; i < wsize; ++i) {
      double v = 0;
      for (int64_t s = 0; s < slices; ++s) v += dw_acc[s * wsize + i];
      grads.dw[i] = static_cast<T>(v);
    }
  if (need_db)
    for (int64_t o = 0; o < g.oc; ++o) {
      double v = 0;
      for (int64_t s = 0; s < slices; ++s) v += db_acc[s * g.oc + o];
      grads.db[o] = static_cast<T>(v);
    }
}

// ---------------------------------------------------------------- entry points

template <class T>
void forward_impl(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, GemmActivation act, T* y,
                  int num_threads) {
  const int64_t OHW = g.oh * g.ow;
  if (g.n <= 0 || g.oc <= 0 || OHW <= 0) return;
  const int threads = useful_threads(g, num_threads);
  const ConvAlgo algo = resolve(g);
  if (algo == ConvAlgo::depthwise)
    forward_depthwise(g, x, w, bias, act, y, threads);
  else if (algo == ConvAlgo::implicit)
    forward_implicit(g, x, w, bias, act, y, threads);
  else if (algo == ConvAlgo::winograd)
    forward_winograd(g, x, w, bias, act, y, threads);
  else
    forward_gemm(g, algo == ConvAlgo::gemm_1x1, x, w, bias, act, y, threads);
}

template <class T>
void backward_impl(const Conv2dGeometry& g, const T* x, const T* w, const T* y, const T* gy, GemmActivation act,
                   const Conv2dGrads<T>& grads, const T* dx_bias, int num_threads) {
  const int64_t HW = g.h * g.w, OHW = g.oh * g.ow;
  const int64_t wsize = g.oc * (g.groups > 0 ? g.c / g.groups : 0) * g.kh * g.kw;
  if (g.n <= 0 || g.oc <= 0 || OHW <= 0 || g.c <= 0) {  // nothing flows back: zeros (dx: its bias)
    if (grads.dw) std::fill(grads.dw, grads.dw + wsize, T(0));
    if (grads.db) std::fill(grads.db, grads.db + g.oc, T(0));
    if (grads.dx)
      for (int64_t nc = 0; nc < g.n * g.c; ++nc)
        std::fill(grads.dx + nc * HW, grads.dx + (nc + 1) * HW, dx_bias ? dx_bias[nc % g.c] : T(0));
    return;
  }
  if (!grads.dx && !grads.dw && !grads.db) return;
  const int threads = useful_threads(g, num_threads);
  const ConvAlgo algo = resolve(g);
  if (algo == ConvAlgo::depthwise)
    backward_depthwise(g, x, w, y, gy, act, grads, dx_bias, threads);
  else if (algo == ConvAlgo::implicit || algo == ConvAlgo::winograd)
    backward_implicit(g, x, w, y, gy, act, grads, dx_bias, algo == ConvAlgo::winograd, threads);
  else
    backward_gemm(g, algo == ConvAlgo::gemm_1x1, x, w, y, gy, act, grads, dx_bias, threads);
}

template <class T>
void channel_sums_impl(const T* a, int64_t n, int64_t c, int64_t inner, T* out, int num_threads) {
  if (c <= 0) return;
  std::vector<double> sums(static_cast<std::size_t>(c), 0.0);
  const auto fn = act_grad_fn(a);
  const int threads = num_threads > 1 && double(n) * double(c) * double(inner) >= 1.0e6 ? num_threads : 1;
  if (threads > 1 && c > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < n; ++i) fn(1, inner, nullptr, a + (i * c + ch) * inner, nullptr, sums.data() + ch, 0);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(c, inner, nullptr, a + i * c * inner, nullptr, sums.data(), 0);
  }
  for (int64_t ch = 0; ch < c; ++ch) out[ch] = static_cast<T>(sums[ch]);
}

}  // namespace

bool conv2d_algo_applies(const Conv2dGeometry& g, ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::automatic:
    case ConvAlgo::im2col:
    case ConvAlgo::implicit:
      return true;
    case ConvAlgo::gemm_1x1:
      return g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0 &&
             g.oh == g.h && g.ow == g.w;
    case ConvAlgo::depthwise:
      return g.groups > 0 && g.c == g.groups;
    case ConvAlgo::winograd:
      return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
             g.groups == 1;
  }
  return false;
}

ConvAlgo conv2d_choose_algo(const Conv2dGeometry& g) {
  // the direct depthwise kernels pay per output plane; past a channel multiplier of 3 (e.g. a
  // first layer with one input channel) one implicit GEMM over all the planes is faster
  if (conv2d_algo_applies(g, ConvAlgo::depthwise) && g.oc <= 3 * g.groups) return ConvAlgo::depthwise;
  if (conv2d_algo_applies(g, ConvAlgo::gemm_1x1)) return ConvAlgo::gemm_1x1;
  // Winograd's transforms cost per channel what the product saves per channel pair, and its
  // weight transforms per channel pair what it saves per tile: it wins once both channel
  // counts fill a few vector lanes and there are enough tiles, most of them whole (a 7x7
  // output computes 8x8)
  if (conv2d_algo_applies(g, ConvAlgo::winograd) && g.c >= kWinogradMinChannels && g.oc >= kWinogradMinChannels) {
    const int64_t tile_outputs = 4 * ceil_div(g.oh, 2) * ceil_div(g.ow, 2);
    if (g.n * tile_outputs >= 4 * kWinogradMinTiles && 20 * g.oh * g.ow >= 17 * tile_outputs)
      return ConvAlgo::winograd;
  }
  return ConvAlgo::implicit;
}

void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* weight, const float* bias,
                    GemmActivation act, float* y, int num_threads) {
  forward_impl(g, x, weight, bias, act, y, num_threads);
}
void conv2d_forward(const Conv2dGeometry& g, const double* x, const double* weight, const double* bias,
                    GemmActivation act, double* y, int num_threads) {
  forward_impl(g, x, weight, bias, act, y, num_threads);
}
void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* weight, const float* y, const float* gy,
                     GemmActivation act, const Conv2dGrads<float>& grads, int num_threads) {
  backward_impl(g, x, weight, y, gy, act, grads, static_cast<const float*>(nullptr), num_threads);
}
void conv2d_backward(const Conv2dGeometry& g, const double* x, const double* weight, const double* y,
                     const double* gy, GemmActivation act, const Conv2dGrads<double>& grads, int num_threads) {
  backward_impl(g, x, weight, y, gy, act, grads, static_cast<const double*>(nullptr), num_threads);
}
void conv2d_backward_data(const Conv2dGeometry& g, const float* weight, const float* gy, const float* bias, float* dx,
                          int num_threads) {
  Conv2dGrads<float> grads;
  grads.dx = dx;
  backward_impl(g, static_cast<const float*>(nullptr), weight, static_cast<const float*>(nullptr), gy,
                GemmActivation::none, grads, bias, num_threads);
}
void conv2d_backward_data(const Conv2dGeometry& g, const double* weight, const double* gy, const double* bias,
                          double* dx, int num_threads) {
  Conv2dGrads<double> grads;
  grads.dx = dx;
  backward_impl(g, static_cast<const double*>(nullptr), weight, static_cast<const double*>(nullptr), gy,
                GemmActivation::none, grads, bias, num_threads);
}
void channel_sums(const float* a, int64_t n, int64_t c, int64_t inner, float* out, int num_threads) {
  channel_sums_impl(a, n, c, inner, out, num_threads);
}
void channel_sums(const double* a, int64_t n, int64_t c, int64_t inner, double* out, int num_threads) {
  channel_sums_impl(a, n, c, inner, out, num_threads);
}

}  // namespace pyfastnn
