// Pooling and nearest-neighbour upsampling: the generic kernels, the thread split and the
// run-time choice of the SIMD row kernels (pool_impl.h) for 2x2 stride-2 max and average
// pooling, the dense backward passes of tiling windows and window sums.
#include "pyfastnn/pool.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "pool/parallel.h"
#include "pool/pool_impl.h"
#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {

using poolnorm::parallel_ranges;

const PoolKernelTable& table() { return PYFASTNN_ISA_SELECT(pool_kernels); }

template <class T>
const PoolRowKernels<T>& rows();
template <>
const PoolRowKernels<float>& rows<float>() {
  return table().f32;
}
template <>
const PoolRowKernels<double>& rows<double>() {
  return table().f64;
}

template <class T>
void max2x2_row(const T* r0, const T* r1, T* y, int32_t* idx, int64_t n, int64_t base, int64_t W) {
  rows<T>().max2x2_i32(r0, r1, y, idx, n, base, W);
}
template <class T>
void max2x2_row(const T* r0, const T* r1, T* y, int64_t* idx, int64_t n, int64_t base, int64_t W) {
  rows<T>().max2x2_i64(r0, r1, y, idx, n, base, W);
}
template <class T>
int64_t dense2_row(const T* gy, const int32_t* idx, T* gx, int64_t n, int64_t pos0) {
  return rows<T>().dense2_i32(gy, idx, gx, n, pos0);
}
template <class T>
int64_t dense2_row(const T* gy, const int64_t* idx, T* gx, int64_t n, int64_t pos0) {
  return rows<T>().dense2_i64(gy, idx, gx, n, pos0);
}

int64_t div_floor(int64_t a, int64_t b) {  // b > 0
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Max pooling of output row oh of one plane, columns [ow_begin, OW), window by window.
template <class T, class I>
void max_row_generic(const T* xp, T* yrow, I* irow, const Pool2dGeom& g, int64_t oh, int64_t ow_begin) {
  int64_t ih0 = oh * g.sh - g.ph;
  const int64_t ih1 = std::min(ih0 + (g.kh - 1) * g.dh + 1, g.H);
  while (ih0 < 0) ih0 += g.dh;
  for (int64_t ow = ow_begin; ow < g.OW; ++ow) {
    int64_t iw0 = ow * g.sw - g.pw;
    const int64_t iw1 = std::min(iw0 + (g.kw - 1) * g.dw + 1, g.W);
    while (iw0 < 0) iw0 += g.dw;
    T m = -std::numeric_limits<T>::infinity();
    int64_t mi = ih0 * g.W + iw0;
    for (int64_t ih = ih0; ih < ih1; ih += g.dh) {
      const T* r = xp + ih * g.W;
      for (int64_t iw = iw0; iw < iw1; iw += g.dw) {
        const T v = r[iw];
        if (v > m || v != v) {
          m = v;
          mi = ih * g.W + iw;
        }
      }
    }
    yrow[ow] = m;
    if (irow) irow[ow] = static_cast<I>(mi);
  }
}

bool is_2x2s2(const Pool2dGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1;
}

// The window rows [oh*kh, min(oh*kh + kh, H)) of a tiling geometry, written densely from
// gy/idx row oh; returns the positions that matched their index.
template <class T, class I>
int64_t dense_rows(const T* gyr, const I* ir, T* gxp, const Pool2dGeom& g, int64_t oh) {
  const int64_t h0 = oh * g.kh, h1 = std::min(h0 + g.kh, g.H);
  const int64_t covered = std::min(g.OW * g.kw, g.W);
  int64_t matched = 0;
  for (int64_t ih = h0; ih < h1; ++ih) {
    T* r = gxp + ih * g.W;
    const int64_t pos = ih * g.W;
    int64_t ow = 0;
    if (g.kw == 2) {
      const int64_t n = std::min(g.OW, g.W / 2);
      matched += dense2_row(gyr, ir, r, n, pos);
      ow = n;
    }
    for (; ow < g.OW; ++ow) {
      const int64_t c0 = ow * g.kw, c1 = std::min(c0 + g.kw, g.W);
      const T gv = gyr[ow];
      const int64_t k = static_cast<int64_t>(ir[ow]);
      for (int64_t c = c0; c < c1; ++c) {
        const bool m = k == pos + c;
        r[c] = m ? gv : T(0);
        matched += m;
      }
    }
    if (covered < g.W) std::memset(static_cast<void*>(r + covered), 0, sizeof(T) * (g.W - covered));
  }
  return matched;
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = div_floor(num, s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

bool pool_tiles(const Pool2dGeom& g) {
  return g.kh == g.sh && g.kw == g.sw && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1;
}

template <class T, class I>
void max_pool2d_forward(const T* x, T* y, I* idx, const Pool2dGeom& g, int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  const bool fast = is_2x2s2(g);
  parallel_ranges(g.planes * g.OH, g.OW * g.kh * g.kw, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* xp = x + p * HW;
      T* yrow = y + p * OHW + oh * g.OW;
      I* irow = idx ? idx + p * OHW + oh * g.OW : nullptr;
      int64_t ow = 0;
      if (fast && 2 * oh + 1 < g.H) {
        const int64_t n = std::min(g.OW, g.W / 2);
        const T* r0 = xp + 2 * oh * g.W;
        if (irow)
          max2x2_row(r0, r0 + g.W, yrow, irow, n, 2 * oh * g.W, g.W);
        else
          rows<T>().max2x2_noidx(r0, r0 + g.W, yrow, n);
        ow = n;
      }
      if (ow < g.OW) max_row_generic(xp, yrow, irow, g, oh, ow);
    }
  });
}

template <class T, class I>
int64_t max_pool2d_backward(const T* gy, const I* idx, T* gx, const Pool2dGeom& g, int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  std::atomic<int64_t> bad{0};
  if (pool_tiles(g) && g.OH > 0 && g.OW > 0) {  // dense; any index outside its window: redo as a scatter
    const int64_t tail = std::min(g.OH * g.kh, g.H);  // rows no window covers start here
    parallel_ranges(g.planes * g.OH, g.OW * g.kh * g.kw, num_threads, [&](int64_t b, int64_t e) {
      int64_t expected = 0, matched = 0;
      for (int64_t r = b; r < e; ++r) {
        const int64_t p = r / g.OH, oh = r % g.OH;
        T* gxp = gx + p * HW;
        matched += dense_rows(gy + p * OHW + oh * g.OW, idx + p * OHW + oh * g.OW, gxp, g, oh);
        expected += g.OW;
        if (oh == g.OH - 1 && tail < g.H)
          std::memset(static_cast<void*>(gxp + tail * g.W), 0, sizeof(T) * (g.H - tail) * g.W);
      }
      bad += expected - matched;
    });
    if (bad.load() == 0) return 0;
    bad = 0;
  }
  parallel_ranges(g.planes, HW + OHW, num_threads, [&](int64_t b, int64_t e) {
    int64_t nbad = 0;
    for (int64_t p = b; p < e; ++p) {
      T* gxp = gx + p * HW;
      const T* gyp = gy + p * OHW;
      const I* ip = idx + p * OHW;
      std::memset(static_cast<void*>(gxp), 0, sizeof(T) * HW);
      for (int64_t o = 0; o < OHW; ++o) {
        const int64_t k = static_cast<int64_t>(ip[o]);
        if (k >= 0 && k < HW)
          gxp[k] += gyp[o];
        else
          ++nbad;
      }
    }
    bad += nbad;
  });
  return bad.load();
}

namespace {

struct AvgWindow {
  int64_t h0, h1, w0, w1;  // clipped to the input
  int64_t divisor;         // 0: empty window (output 0)
};

AvgWindow avg_window(const Pool2dGeom& g, int64_t oh, int64_t ow, bool count_include_pad, int64_t divisor_override) {
  int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  int64_t h1 = std::min(h0 + g.kh, g.H + g.ph), w1 = std::min(w0 + g.kw, g.W + g.pw);
  const int64_t pool_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.H);
  w1 = std::min(w1, g.W);
  AvgWindow win{h0, h1, w0, w1, 0};
  if (h0 >= h1 || w0 >= w1) return win;
  win.divisor = divisor_override > 0 ? divisor_override : count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
  return win;
}

// Adaptive windows along one axis: [floor(o*I/O), ceil((o+1)*I/O)).
inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

}  // namespace

namespace {

// sum of the window block rows [h0, h1) x columns [w0, w1) of a plane, in double: one SIMD
// sum when the block is contiguous (full rows) or its rows are wide, plain loops otherwise.
template <class T>
double block_sum(const T* xp, int64_t W, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
  constexpr int64_t kWide = 8;
  if (w0 == 0 && w1 == W) return rows<T>().sum(xp + h0 * W, (h1 - h0) * W);
  double s = 0;
  for (int64_t ih = h0; ih < h1; ++ih) {
    const T* row = xp + ih * W;
    if (w1 - w0 >= kWide) {
      s += rows<T>().sum(row + w0, w1 - w0);
    } else {
      for (int64_t iw = w0; iw < w1; ++iw) s += static_cast<double>(row[iw]);
    }
  }
  return s;
}

}  // namespace

template <class T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g, bool count_include_pad, int64_t divisor_override,
                        int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  const bool fast = is_2x2s2(g);  // full 2x2 windows: divisor 4 (no padding) unless overridden
  const double inv4 = 1.0 / static_cast<double>(divisor_override > 0 ? divisor_override : 4);
  parallel_ranges(g.planes * g.OH, g.OW * g.kh * g.kw, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* xp = x + p * HW;
      T* yrow = y + p * OHW + oh * g.OW;
      int64_t ow = 0;
      if (fast && 2 * oh + 1 < g.H) {
        const int64_t n = std::min(g.OW, g.W / 2);
        const T* r0 = xp + 2 * oh * g.W;
        rows<T>().avg2x2(r0, r0 + g.W, yrow, n, inv4);
        ow = n;
      }
      for (; ow < g.OW; ++ow) {
        const AvgWindow w = avg_window(g, oh, ow, count_include_pad, divisor_override);
        yrow[ow] = w.divisor == 0
                       ? T(0)
                       : static_cast<T>(block_sum(xp, g.W, w.h0, w.h1, w.w0, w.w1) / static_cast<double>(w.divisor));
      }
    }
  });
}

namespace {

// Average-pooling backward when the windows tile the input (kernel == stride, no padding):
// every input element gets the gradient of at most one window, so gx is written in one
// dense pass (no zeroing, no accumulation), window row by window row.
template <class T>
void avg_backward_tiles(const T* gy, T* gx, const Pool2dGeom& g, bool count_include_pad, int64_t divisor_override,
                        int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  const int64_t tail = std::min(g.OH * g.kh, g.H), covered = std::min(g.OW * g.kw, g.W);
  parallel_ranges(g.planes * g.OH, g.OW * g.kh * g.kw, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      T* gxp = gx + p * HW;
      const T* gyr = gy + p * OHW + oh * g.OW;
      const int64_t h0 = oh * g.kh, h1 = std::min(h0 + g.kh, g.H);
      // windows two columns wide and inside the input share one divisor along the row
      const int64_t n2 = g.kw == 2 ? std::min(g.OW, g.W / 2) : 0;
      const double inv2 = 1.0 / static_cast<double>(divisor_override > 0 ? divisor_override : (h1 - h0) * 2);
      for (int64_t ih = h0; ih < h1; ++ih) {
        T* row = gxp + ih * g.W;
        if (n2 > 0) rows<T>().avg_dense2(gyr, row, n2, inv2);
        for (int64_t ow = n2; ow < g.OW; ++ow) {
          const AvgWindow w = avg_window(g, oh, ow, count_include_pad, divisor_override);
          const T v = w.divisor == 0 ? T(0)
                                     : static_cast<T>(static_cast<double>(gyr[ow]) / static_cast<double>(w.divisor));
          for (int64_t iw = w.w0; iw < w.w1; ++iw) row[iw] = v;
        }
        if (covered < g.W) std::memset(static_cast<void*>(row + covered), 0, sizeof(T) * (g.W - covered));
      }
      if (oh == g.OH - 1 && tail < g.H)
        std::memset(static_cast<void*>(gxp + tail * g.W), 0, sizeof(T) * (g.H - tail) * g.W);
    }
  });
}

}  // namespace

template <class T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g, bool count_include_pad, int64_t divisor_override,
                         int num_threads) {
  if (pool_tiles(g) && g.OH > 0 && g.OW > 0) {
    avg_backward_tiles(gy, gx, g, count_include_pad, divisor_override, num_threads);
    return;
  }
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_ranges(g.planes, HW + OHW * g.kh * g.kw, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gxp = gx + p * HW;
      const T* gyp = gy + p * OHW;
      std::memset(static_cast<void*>(gxp), 0, sizeof(T) * HW);
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const AvgWindow w = avg_window(g, oh, ow, count_include_pad, divisor_override);
          if (w.divisor == 0) continue;
          const T v = static_cast<T>(static_cast<double>(gyp[oh * g.OW + ow]) / static_cast<double>(w.divisor));
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) gxp[ih * g.W + iw] += v;
        }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g, int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  const int64_t wh = (g.H + g.OH - 1) / g.OH + 1, ww = (g.W + g.OW - 1) / g.OW + 1;
  parallel_ranges(g.planes * g.OH, g.OW * wh * ww, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* xp = x + p * HW;
      T* yrow = y + p * OHW + oh * g.OW;
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        yrow[ow] = static_cast<T>(block_sum(xp, g.W, h0, h1, w0, w1) / static_cast<double>((h1 - h0) * (w1 - w0)));
      }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g, int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_ranges(g.planes, 2 * HW + OHW, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gxp = gx + p * HW;
      const T* gyp = gy + p * OHW;
      if (OHW == 1) {  // global average pooling: one value for the whole plane
        std::fill_n(gxp, HW, static_cast<T>(static_cast<double>(gyp[0]) / static_cast<double>(HW)));
        continue;
      }
      std::memset(static_cast<void*>(gxp), 0, sizeof(T) * HW);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          const T v = static_cast<T>(static_cast<double>(gyp[oh * g.OW + ow]) /
                                     static_cast<double>((h1 - h0) * (w1 - w0)));
          for (int64_t ih = h0; ih < h1; ++ih) {
            T* row = gxp + ih * g.W;
            for (int64_t iw = w0; iw < w1; ++iw) row[iw] += v;
          }
        }
      }
    }
  });
}

template <class T, class I>
void adaptive_max_pool2d_forward(const T* x, T* y, I* idx, const Pool2dGeom& g, int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  const int64_t wh = (g.H + g.OH - 1) / g.OH + 1, ww = (g.W + g.OW - 1) / g.OW + 1;
  parallel_ranges(g.planes * g.OH, g.OW * wh * ww, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* xp = x + p * HW;
      T* yrow = y + p * OHW + oh * g.OW;
      I* irow = idx ? idx + p * OHW + oh * g.OW : nullptr;
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        T m = -std::numeric_limits<T>::infinity();
        int64_t mi = h0 * g.W + w0;
        for (int64_t ih = h0; ih < h1; ++ih) {
          const T* row = xp + ih * g.W;
          for (int64_t iw = w0; iw < w1; ++iw) {
            const T v = row[iw];
            if (v > m || v != v) {
              m = v;
              mi = ih * g.W + iw;
            }
          }
        }
        yrow[ow] = m;
        if (irow) irow[ow] = static_cast<I>(mi);
      }
    }
  });
}

template <class T>
void upsample_nearest2d_forward(const T* x, T* y, const Pool2dGeom& g, const int64_t* ih, const int64_t* iw,
                                int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_ranges(g.planes * g.OH, g.OW, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / g.OH, oh = r % g.OH;
      const T* src = x + p * HW + ih[oh] * g.W;
      T* dst = y + p * OHW + oh * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) dst[ow] = src[iw[ow]];
    }
  });
}

template <class T>
void upsample_nearest2d_backward(const T* gy, T* gx, const Pool2dGeom& g, const int64_t* ih, const int64_t* iw,
                                 int num_threads) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_ranges(g.planes, HW + OHW, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* gxp = gx + p * HW;
      const T* gyp = gy + p * OHW;
      std::memset(static_cast<void*>(gxp), 0, sizeof(T) * HW);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        T* dst = gxp + ih[oh] * g.W;
        const T* src = gyp + oh * g.OW;
        for (int64_t ow = 0; ow < g.OW; ++ow) dst[iw[ow]] += src[ow];
      }
    }
  });
}

#define PYFASTNN_POOL_T(T)                                                                                         \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dGeom&, bool, int64_t, int);                     \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dGeom&, bool, int64_t, int);                    \
  template void adaptive_avg_pool2d_forward<T>(const T*, T*, const Pool2dGeom&, int);                           \
  template void adaptive_avg_pool2d_backward<T>(const T*, T*, const Pool2dGeom&, int);                          \
  template void upsample_nearest2d_forward<T>(const T*, T*, const Pool2dGeom&, const int64_t*, const int64_t*, int); \
  template void upsample_nearest2d_backward<T>(const T*, T*, const Pool2dGeom&, const int64_t*, const int64_t*, int);
#define PYFASTNN_POOL_TI(T, I)                                                                  \
  template void max_pool2d_forward<T, I>(const T*, T*, I*, const Pool2dGeom&, int);             \
  template int64_t max_pool2d_backward<T, I>(const T*, const I*, T*, const Pool2dGeom&, int);   \
  template void adaptive_max_pool2d_forward<T, I>(const T*, T*, I*, const Pool2dGeom&, int);

PYFASTNN_POOL_T(float)
PYFASTNN_POOL_T(double)
PYFASTNN_POOL_TI(float, int32_t)
PYFASTNN_POOL_TI(float, int64_t)
PYFASTNN_POOL_TI(double, int32_t)
PYFASTNN_POOL_TI(double, int64_t)

}  // namespace pyfastnn
