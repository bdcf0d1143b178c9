// Serial convolution kernels, written once as scalar code with `#pragma omp simd` loops over
// whole output rows and compiled per instruction set (conv_{portable,avx2,avx512}.cpp);
// conv.cpp splits the work over threads, drives the GEMM and picks the table; the table
// itself is built in implicit_impl.h, with the implicit-GEMM kernels.
#pragma once
#include <cstdint>

#include "pyfastnn/conv.h"

namespace pyfastnn {

// im2col: rows (c, ki, kj) for `channels` channels starting at x (each H x W), columns the
// output pixels of output rows [oh0, oh1) (row-major, OW per output row), row r of col at
// col + r * ldcol. Padding reads as zero.
template <class T>
using ConvIm2colFn = void (*)(const Conv2dGeometry& g, const T* x, int64_t channels, int64_t oh0, int64_t oh1,
                              T* col, int64_t ldcol);
// col2im: the adjoint, accumulated into dx (channels x H x W, already initialised).
template <class T>
using ConvCol2imFn = void (*)(const Conv2dGeometry& g, const T* col, int64_t ldcol, int64_t channels, int64_t oh0,
                              int64_t oh1, T* dx);
// gz = gy * act'(y) over rows x cols (contiguous; gz may be null: sums only; act 0: gz = gy,
// y unread), and sums[r] += sum of gz's row r (sums may be null).
template <class T>
using ConvActGradFn = void (*)(int64_t rows, int64_t cols, const T* y, const T* gy, T* gz, double* sums, int act);
// Depthwise forward of one input plane x (H x W) into `mult` output planes y (OH x OW each),
// weights w (mult x KH x KW), bias (mult values or null), act 0 none / 1 relu.
template <class T>
using ConvDwForwardFn = void (*)(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, int64_t mult,
                                 int act, T* y);
// Depthwise backward of one input plane: dx (H x W, accumulated; null: not wanted) and
// dw (mult x KH x KW float64 sums, accumulated; null: not wanted) from gz (mult planes).
template <class T>
using ConvDwBackwardFn = void (*)(const Conv2dGeometry& g, const T* x, const T* w, const T* gz, int64_t mult, T* dx,
                                  double* dw);

// Implicit GEMM (implicit_impl.h): output rows [oh0, oh1) of `images` consecutive images of
// one group (x, y, gz: the first image's group planes). Forward: y = act(W * cols + bias)
// (w: the group's OC/groups x K weights); weight gradient: dwt (K x OC/groups) += cols gz^T.
template <class T>
using ConvImplicitFwdFn = void (*)(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, int act,
                                   int64_t images, int64_t oh0, int64_t oh1, T* y);
template <class T>
using ConvImplicitDwFn = void (*)(const Conv2dGeometry& g, const T* x, const T* gz, int64_t images, int64_t oh0,
                                  int64_t oh1, T* dwt);

// Winograd F(2x2, 3x3) (winograd_impl.h), 3x3 kernels at stride 1, dilation 1, one group:
// the transformed weights packed for the GEMM (returns their size in elements; dst null:
// the size only), and y = act(conv(x, w) + bias) for tiles [q0, q1) of 2x2 outputs (numbered
// image by image, row by row over ceil(OH/2) x ceil(OW/2) tiles per image).
template <class T>
using ConvWinogradWeightsFn = int64_t (*)(const Conv2dGeometry& g, const T* w, T* dst);
template <class T>
using ConvWinogradFwdFn = void (*)(const Conv2dGeometry& g, const T* x, const T* u, const T* bias, int act, int64_t q0,
                                   int64_t q1, T* y);

// Winograd weight gradient: dut (16 x C x OC, the transformed dW^T) += the sum over tiles
// [q0, q1) of V ⊙ dM (x the whole input, gz the whole dL/dy after the activation).
template <class T>
using ConvWinogradDwFn = void (*)(const Conv2dGeometry& g, const T* x, const T* gz, int64_t q0, int64_t q1, T* dut);

struct ConvKernelTable {
  ConvIm2colFn<float> im2col_f32;
  ConvIm2colFn<double> im2col_f64;
  ConvCol2imFn<float> col2im_f32;
  ConvCol2imFn<double> col2im_f64;
  ConvActGradFn<float> act_grad_f32;
  ConvActGradFn<double> act_grad_f64;
  ConvDwForwardFn<float> dw_forward_f32;
  ConvDwForwardFn<double> dw_forward_f64;
  ConvDwBackwardFn<float> dw_backward_f32;
  ConvDwBackwardFn<double> dw_backward_f64;
  ConvImplicitFwdFn<float> implicit_fwd_f32;
  ConvImplicitFwdFn<double> implicit_fwd_f64;
  ConvImplicitDwFn<float> implicit_dw_f32;
  ConvImplicitDwFn<double> implicit_dw_f64;
  ConvWinogradWeightsFn<float> winograd_weights_f32;
  ConvWinogradWeightsFn<double> winograd_weights_f64;
  ConvWinogradFwdFn<float> winograd_fwd_f32;
  ConvWinogradFwdFn<double> winograd_fwd_f64;
  ConvWinogradDwFn<float> winograd_dw_f32;
  ConvWinogradDwFn<double> winograd_dw_f64;
};

extern const ConvKernelTable conv_kernels_portable;
#ifdef PYFASTNN_X86
extern const ConvKernelTable conv_kernels_avx2;
extern const ConvKernelTable conv_kernels_avx512;
#endif

// Output columns [lo, hi) whose input column ow * stride + off lies in [0, width).
inline void conv_valid_range(int64_t off, int64_t stride, int64_t width, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t h = width - 1 - off < 0 ? 0 : (width - 1 - off) / stride + 1;
  if (l > out) l = out;
  if (h > out) h = out;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace conv_k {

template <class T>
void im2col(const Conv2dGeometry& g, const T* x, int64_t channels, int64_t oh0, int64_t oh1, T* col, int64_t ldcol) {
  const int64_t H = g.h, W = g.w, OW = g.ow, sw = g.stride_w;
  for (int64_t c = 0; c < channels; ++c) {
    const T* xc = x + c * H * W;
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * ldcol;
        const int64_t off = kj * g.dil_w - g.pad_w;
        int64_t lo, hi;
        conv_valid_range(off, sw, W, OW, &lo, &hi);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          T* __restrict d = row + (oh - oh0) * OW;
          const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dil_h;
          if (ih < 0 || ih >= H) {
            for (int64_t j = 0; j < OW; ++j) d[j] = T(0);
            continue;
          }
          // s[j] is the input of output column lo + j (lo * sw + off >= 0 by construction)
          const T* __restrict s = xc + ih * W + (lo * sw + off);
          const int64_t cnt = hi - lo;
          for (int64_t j = 0; j < lo; ++j) d[j] = T(0);
          T* __restrict dl = d + lo;
          if (sw == 1) {
#pragma omp simd
            for (int64_t j = 0; j < cnt; ++j) dl[j] = s[j];
          } else if (sw == 2) {
#pragma omp simd
            for (int64_t j = 0; j < cnt; ++j) dl[j] = s[2 * j];
          } else {
            for (int64_t j = 0; j < cnt; ++j) dl[j] = s[j * sw];
          }
          for (int64_t j = hi; j < OW; ++j) d[j] = T(0);
        }
      }
  }
}

template <class T>
void col2im(const Conv2dGeometry& g, const T* col, int64_t ldcol, int64_t channels, int64_t oh0, int64_t oh1, T* dx) {
  const int64_t H = g.h, W = g.w, OW = g.ow, sw = g.stride_w;
  for (int64_t c = 0; c < channels; ++c) {
    T* xc = dx + c * H * W;
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * ldcol;
        const int64_t off = kj * g.dil_w - g.pad_w;
        int64_t lo, hi;
        conv_valid_range(off, sw, W, OW, &lo, &hi);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dil_h;
          if (ih < 0 || ih >= H) continue;
          const T* __restrict s = row + (oh - oh0) * OW + lo;
          T* __restrict d = xc + ih * W + (lo * sw + off);
          const int64_t cnt = hi - lo;
          if (sw == 1) {
#pragma omp simd
            for (int64_t j = 0; j < cnt; ++j) d[j] += s[j];
          } else {
            for (int64_t j = 0; j < cnt; ++j) d[j * sw] += s[j];
          }
        }
      }
  }
}

template <class T>
void act_grad(int64_t rows, int64_t cols, const T* y, const T* gy, T* gz, double* sums, int act) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict gr = gy + r * cols;
    T s = T(0);
    if (act == 1) {
      const T* __restrict yr = y + r * cols;
      if (gz) {
        T* __restrict zr = gz + r * cols;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) {
          const T v = yr[j] <= T(0) ? T(0) : gr[j];  // NaN in y passes the gradient, as PyTorch
          zr[j] = v;
          s += v;
        }
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += yr[j] <= T(0) ? T(0) : gr[j];
      }
    } else {
      if (gz) {
        T* __restrict zr = gz + r * cols;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) {
          zr[j] = gr[j];
          s += gr[j];
        }
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += gr[j];
      }
    }
    if (sums) sums[r] += static_cast<double>(s);
  }
}

template <class T>
void dw_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, int64_t mult, int act, T* y) {
  const int64_t H = g.h, W = g.w, OH = g.oh, OW = g.ow, sw = g.stride_w, KK = g.kh * g.kw;
  for (int64_t m = 0; m < mult; ++m) {
    const T* wk = w + m * KK;
    const T b = bias ? bias[m] : T(0);
    T* yp = y + m * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
      T* __restrict yr = yp + oh * OW;
#pragma omp simd
      for (int64_t j = 0; j < OW; ++j) yr[j] = b;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dil_h;
        if (ih < 0 || ih >= H) continue;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const int64_t off = kj * g.dil_w - g.pad_w;
          int64_t lo, hi;
          conv_valid_range(off, sw, W, OW, &lo, &hi);
          const T wv = wk[ki * g.kw + kj];
          const T* __restrict s = x + ih * W + (lo * sw + off);
          T* __restrict yl = yr + lo;
          const int64_t cnt = hi - lo;
          if (sw == 1) {
#pragma omp simd
            for (int64_t j = 0; j < cnt; ++j) yl[j] += wv * s[j];
          } else if (sw == 2) {
#pragma omp simd
            for (int64_t j = 0; j < cnt; ++j) yl[j] += wv * s[2 * j];
          } else {
            for (int64_t j = 0; j < cnt; ++j) yl[j] += wv * s[j * sw];
          }
        }
      }
      if (act == 1) {
#pragma omp simd
        for (int64_t j = 0; j < OW; ++j) yr[j] = yr[j] < T(0) ? T(0) : yr[j];  // NaN stays NaN
      }
    }
  }
}

template <class T>
void dw_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gz, int64_t mult, T* dx, double* dw) {
  const int64_t H = g.h, W = g.w, OH = g.oh, OW = g.ow, sw = g.stride_w, KK = g.kh * g.kw;
  for (int64_t m = 0; m < mult; ++m) {
    const T* wk = w + m * KK;
    const T* gp = gz + m * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const T* __restrict gr = gp + oh * OW;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dil_h;
        if (ih < 0 || ih >= H) continue;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const int64_t off = kj * g.dil_w - g.pad_w;
          int64_t lo, hi;
          conv_valid_range(off, sw, W, OW, &lo, &hi);
          const T* __restrict gl = gr + lo;
          const int64_t cnt = hi - lo, start = lo * sw + off;
          if (dw) {
            const T* __restrict s = x + ih * W + start;
            T acc = T(0);
            if (sw == 1) {
#pragma omp simd reduction(+ : acc)
              for (int64_t j = 0; j < cnt; ++j) acc += gl[j] * s[j];
            } else {
              for (int64_t j = 0; j < cnt; ++j) acc += gl[j] * s[j * sw];
            }
            dw[m * KK + ki * g.kw + kj] += static_cast<double>(acc);
          }
          if (dx) {
            const T wv = wk[ki * g.kw + kj];
            T* __restrict d = dx + ih * W + start;
            if (sw == 1) {
#pragma omp simd
              for (int64_t j = 0; j < cnt; ++j) d[j] += wv * gl[j];
            } else {
              for (int64_t j = 0; j < cnt; ++j) d[j * sw] += wv * gl[j];
            }
          }
        }
      }
    }
  }
}

}  // namespace conv_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
