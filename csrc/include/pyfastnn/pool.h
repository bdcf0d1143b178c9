// 2-D pooling and nearest-neighbour upsampling over NCHW planes (PyTorch semantics).
//
// Every kernel sees the input as `planes` = N*C contiguous H x W planes and the output as
// planes of OH x OW; OpenMP splits the work over planes (and rows of a plane where a plane
// is big and there are few). Argmax indices are flat positions inside the input plane,
// ih * W + iw, as PyTorch returns them; they are int32 (internal use) or int64.
//
// max pooling: window of output (oh, ow) starts at (oh*sh - ph, ow*sw - pw) and takes every
// dh-th row / dw-th column of a (kh-1)*dh+1 by (kw-1)*dw+1 box, clipped to the input. The
// maximum is found in row-major window order with `v > max || isnan(v)` from -inf, so the
// first maximum wins a tie and a NaN propagates (the last NaN's index), as PyTorch's CPU
// kernel; an empty window gives -inf at its first clipped position.
//
// average pooling (no dilation): PyTorch's divisor — divisor_override if > 0, else the
// window clipped to the padded input (count_include_pad) or to the input itself.
//
// adaptive pooling: output (oh, ow) covers rows [floor(oh*H/OH), ceil((oh+1)*H/OH)) and the
// same for columns.
#pragma once
#include <cstdint>

namespace pyfastnn {

struct Pool2dGeom {
  int64_t planes = 0;  // N * C
  int64_t H = 0, W = 0, OH = 0, OW = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

// PyTorch's pooling_output_shape: floor or ceil of (in + 2p - d(k-1) - 1)/s + 1, where in
// ceil mode the last window must start inside the input or the left padding. May be <= 0
// (the caller reports "output size is too small").
int64_t pool_output_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode);

// True when the windows tile the input without overlap or padding (k == s, p == 0,
// d == 1): max_pool2d_backward then writes gx in one dense pass instead of zero + scatter.
bool pool_tiles(const Pool2dGeom& g);

// y (planes, OH, OW); idx the argmax of each output (nullptr: not stored). I = int32_t or int64_t.
template <class T, class I>
void max_pool2d_forward(const T* x, T* y, I* idx, const Pool2dGeom& g, int num_threads);

// gx (planes, H, W) = the scatter-add of gy (planes, OH, OW) into the argmax positions.
// Uses the geometry only to take the dense path when pool_tiles(g) (falling back to the
// scatter when an index lies outside its window). Indices outside the plane are skipped
// (PyTorch's index of a window that lies wholly in the padding can be one); returns their
// number.
template <class T, class I>
int64_t max_pool2d_backward(const T* gy, const I* idx, T* gx, const Pool2dGeom& g, int num_threads);

// divisor_override <= 0: none.
template <class T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g, bool count_include_pad, int64_t divisor_override,
                        int num_threads);
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g, bool count_include_pad, int64_t divisor_override,
                         int num_threads);

// Adaptive pooling (g: planes, H, W, OH, OW; the window fields are ignored).
template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g, int num_threads);
template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g, int num_threads);
template <class T, class I>
void adaptive_max_pool2d_forward(const T* x, T* y, I* idx, const Pool2dGeom& g, int num_threads);
// The backward of adaptive max pooling is max_pool2d_backward with a geometry whose
// pool_tiles is false (a plain scatter).

// Nearest-neighbour resampling with given source indices: y[p, oh, ow] = x[p, ih[oh], iw[ow]]
// (0 <= ih < H, 0 <= iw < W, checked by the caller); backward accumulates gy into gx.
template <class T>
void upsample_nearest2d_forward(const T* x, T* y, const Pool2dGeom& g, const int64_t* ih, const int64_t* iw,
                                int num_threads);
template <class T>
void upsample_nearest2d_backward(const T* gy, T* gx, const Pool2dGeom& g, const int64_t* ih, const int64_t* iw,
                                 int num_threads);

}  // namespace pyfastnn
