// pyfastnn._C pooling: max_pool2d / avg_pool2d / adaptive_{avg,max}_pool2d forward and
// backward, nearest-neighbour upsampling (pyfastnn/pool.h). Arrays are C-contiguous
// float32/float64 with the image in the last two dimensions (every leading dimension is a
// plane: (C, H, W) or (N, C, H, W)); everything is checked here before a kernel runs.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/pool.h"

namespace pyfastnn {
namespace bind {
namespace {

using Pair = std::pair<int64_t, int64_t>;

std::string pair_str(const Pair& p) { return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")"; }

// A C-contiguous float32/float64 array with at least `min_ndim` dimensions.
py::array image_arg(const py::handle& obj, const char* op, const char* arg, int min_ndim) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>()) && !a.dtype().is(py::dtype::of<double>()))
    type_error(op, arg, "a float32 or float64 numpy array", obj);
  if (a.ndim() < min_ndim)
    value_error(op, std::string("argument '") + arg + "' must have at least " + std::to_string(min_ndim) +
                        " dimensions, got shape " + shape_str(a));
  if (!(a.flags() & py::array::c_style))
    value_error(op, std::string("argument '") + arg + "' must be C-contiguous; pass numpy.ascontiguousarray(" + arg +
                        ")");
  return a;
}

void same_dtype(const py::array& a, const py::array& b, const char* op, const char* arg) {
  if (!a.dtype().is(b.dtype()))
    type_error(op, arg, std::string("an array of dtype ") + std::string(py::str(a.dtype())), b);
}

std::vector<py::ssize_t> shape_of(const py::array& a) { return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()); }

int64_t planes_of(const std::vector<py::ssize_t>& shape) {
  int64_t p = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i) p *= shape[i];
  return p;
}

// The input shape the backward pass produces (a tuple of ints, at least 2).
std::vector<py::ssize_t> shape_arg(const py::object& obj, const char* op) {
  std::vector<py::ssize_t> s;
  try {
    for (auto v : py::iterable(obj)) s.push_back(v.cast<py::ssize_t>());
  } catch (const py::cast_error&) {
    type_error(op, "input_shape", "a tuple of ints", obj);
  }
  if (s.size() < 2) value_error(op, "argument 'input_shape' must have at least 2 dimensions");
  for (auto v : s)
    if (v < 0) value_error(op, "argument 'input_shape' has a negative dimension");
  return s;
}

// gy's leading dimensions must be the input's.
void check_lead(const std::vector<py::ssize_t>& in, const py::array& gy, const char* op) {
  bool ok = static_cast<size_t>(gy.ndim()) == in.size();
  for (size_t i = 0; ok && i + 2 < in.size(); ++i) ok = gy.shape(i) == in[i];
  if (!ok) value_error(op, "argument 'gy' of shape " + shape_str(gy) + " does not match the input's leading dimensions");
}

struct Window {
  Pair k, s, p, d;
};

Pool2dGeom geometry(const std::vector<py::ssize_t>& in, int64_t OH, int64_t OW, const Window* w) {
  Pool2dGeom g;
  g.planes = planes_of(in);
  g.H = in[in.size() - 2];
  g.W = in[in.size() - 1];
  g.OH = OH;
  g.OW = OW;
  if (w) {
    g.kh = w->k.first, g.kw = w->k.second, g.sh = w->s.first, g.sw = w->s.second;
    g.ph = w->p.first, g.pw = w->p.second, g.dh = w->d.first, g.dw = w->d.second;
  }
  return g;
}

// PyTorch's checks of a pooling window, then the output size (H, W >= 1 required).
Pair check_window(const char* op, const std::vector<py::ssize_t>& in, const Window& w, bool ceil_mode) {
  auto positive = [&](const Pair& v, const char* what) {
    if (v.first <= 0 || v.second <= 0)
      value_error(op, std::string(what) + " should be greater than zero, but got " + what + " = " + pair_str(v));
  };
  positive(w.k, "kernel_size");
  positive(w.s, "stride");
  positive(w.d, "dilation");
  if (w.p.first < 0 || w.p.second < 0) value_error(op, "padding must be non-negative, got " + pair_str(w.p));
  const int64_t ekh = (w.k.first - 1) * w.d.first + 1, ekw = (w.k.second - 1) * w.d.second + 1;
  if (w.p.first > w.k.first / 2 || w.p.second > w.k.second / 2)  // PyTorch: the undilated kernel, for max too
    value_error(op, "pad should be at most half of kernel size, but got pad = " + pair_str(w.p) +
                        ", kernel_size = " + pair_str(w.k));
  const int64_t H = in[in.size() - 2], W = in[in.size() - 1];
  if (H <= 0 || W <= 0) value_error(op, "expected an input with non-zero height and width");
  const int64_t OH = pool_output_size(H, w.k.first, w.s.first, w.p.first, w.d.first, ceil_mode);
  const int64_t OW = pool_output_size(W, w.k.second, w.s.second, w.p.second, w.d.second, ceil_mode);
  if (OH < 1 || OW < 1)
    value_error(op, "kernel " + pair_str({ekh, ekw}) + (w.d.first > 1 || w.d.second > 1 ? " (dilated)" : "") +
                        " is larger than the padded input " + pair_str({H + 2 * w.p.first, W + 2 * w.p.second}) +
                        ": input size " + pair_str({H, W}) + ", calculated output size " + pair_str({OH, OW}) +
                        ". Output size is too small");
  return {OH, OW};
}

py::array new_like(const py::array& like, std::vector<py::ssize_t> shape) { return py::array(like.dtype(), shape); }

enum class IndexKind { none, i32, i64 };

IndexKind index_kind(const std::string& s, const char* op) {
  if (s == "none") return IndexKind::none;
  if (s == "int32") return IndexKind::i32;
  if (s == "int64") return IndexKind::i64;
  value_error(op, "argument 'indices' must be 'none', 'int32' or 'int64', got '" + s + "'");
}

template <class T, class F>
py::tuple forward_with_indices(const py::array& x, std::vector<py::ssize_t> yshape, IndexKind kind, F&& run) {
  py::array y = new_like(x, yshape);
  py::object idx = py::none();
  const T* xp = static_cast<const T*>(x.data());
  T* yp = static_cast<T*>(y.mutable_data());
  if (kind == IndexKind::i64) {
    py::array_t<int64_t> ia(yshape);
    int64_t* ip = ia.mutable_data();
    {
      py::gil_scoped_release release;
      run(xp, yp, ip);
    }
    idx = ia;
  } else if (kind == IndexKind::i32) {
    py::array_t<int32_t> ia(yshape);
    int32_t* ip = ia.mutable_data();
    {
      py::gil_scoped_release release;
      run(xp, yp, ip);
    }
    idx = ia;
  } else {
    py::gil_scoped_release release;
    run(xp, yp, static_cast<int32_t*>(nullptr));
  }
  return py::make_tuple(y, idx);
}

py::tuple max_pool2d_forward(const py::object& x_obj, Pair k, Pair s, Pair p, Pair d, bool ceil_mode,
                             const std::string& indices) {
  const char* op = "max_pool2d";
  py::array x = image_arg(x_obj, op, "x", 2);
  const IndexKind kind = index_kind(indices, op);
  auto in = shape_of(x);
  const Window w{k, s, p, d};
  const Pair o = check_window(op, in, w, ceil_mode);
  if (kind == IndexKind::i32 && in[in.size() - 2] * in[in.size() - 1] > INT32_MAX)
    value_error(op, "int32 indices cannot address a plane of more than 2^31 - 1 elements");
  const Pool2dGeom g = geometry(in, o.first, o.second, &w);
  auto yshape = in;
  yshape[in.size() - 2] = o.first;
  yshape[in.size() - 1] = o.second;
  const int threads = num_threads();
  if (x.dtype().is(py::dtype::of<float>()))
    return forward_with_indices<float>(x, yshape, kind, [&](const float* xp, float* yp, auto* ip) {
      max_pool2d_forward(xp, yp, ip, g, threads);
    });
  return forward_with_indices<double>(x, yshape, kind, [&](const double* xp, double* yp, auto* ip) {
    max_pool2d_forward(xp, yp, ip, g, threads);
  });
}

template <class T, class I>
int64_t run_max_backward(const py::array& gy, const py::array& idx, py::array& gx, const Pool2dGeom& g) {
  const T* gp = static_cast<const T*>(gy.data());
  const I* ip = static_cast<const I*>(idx.data());
  T* out = static_cast<T*>(gx.mutable_data());
  const int threads = num_threads();
  py::gil_scoped_release release;
  return max_pool2d_backward(gp, ip, out, g, threads);
}

py::array max_pool2d_backward(const py::object& gy_obj, const py::object& idx_obj, const py::object& input_shape,
                              const py::object& k, const py::object& s, const py::object& p, const py::object& d) {
  const char* op = "max_pool2d_backward";
  py::array gy = image_arg(gy_obj, op, "gy", 2);
  if (!py::isinstance<py::array>(idx_obj)) type_error(op, "indices", "an int32 or int64 numpy array", idx_obj);
  py::array idx = py::reinterpret_borrow<py::array>(idx_obj);
  const bool i64 = idx.dtype().is(py::dtype::of<int64_t>());
  if (!i64 && !idx.dtype().is(py::dtype::of<int32_t>())) type_error(op, "indices", "an int32 or int64 numpy array", idx_obj);
  if (!(idx.flags() & py::array::c_style)) value_error(op, "argument 'indices' must be C-contiguous");
  if (idx.ndim() != gy.ndim() || !std::equal(gy.shape(), gy.shape() + gy.ndim(), idx.shape()))
    value_error(op, "argument 'indices' of shape " + shape_str(idx) + " must have the shape of 'gy' " + shape_str(gy));
  auto in = shape_arg(input_shape, op);
  check_lead(in, gy, op);
  Window w{{0, 0}, {0, 0}, {0, 0}, {1, 1}};  // kernel 0: not a tiling, a plain scatter
  if (!k.is_none()) {
    try {
      const Pair kk = k.cast<Pair>();
      w = Window{kk, s.is_none() ? kk : s.cast<Pair>(), p.cast<Pair>(), d.cast<Pair>()};
    } catch (const py::cast_error&) {
      type_error(op, "kernel_size", "None or (h, w) pairs of ints for kernel_size, stride, padding, dilation", k);
    }
  }
  const Pool2dGeom g = geometry(in, gy.shape(gy.ndim() - 2), gy.shape(gy.ndim() - 1), &w);
  py::array gx = new_like(gy, in);
  // indices outside the plane (an empty window's) are skipped: the count is not an error
  if (gy.dtype().is(py::dtype::of<float>()))
    i64 ? run_max_backward<float, int64_t>(gy, idx, gx, g) : run_max_backward<float, int32_t>(gy, idx, gx, g);
  else
    i64 ? run_max_backward<double, int64_t>(gy, idx, gx, g) : run_max_backward<double, int32_t>(gy, idx, gx, g);
  return gx;
}

template <class T, class F>
py::array run_plain(const py::array& src, std::vector<py::ssize_t> out_shape, F&& run) {
  py::array out = new_like(src, out_shape);
  const T* a = static_cast<const T*>(src.data());
  T* b = static_cast<T*>(out.mutable_data());
  py::gil_scoped_release release;
  run(a, b);
  return out;
}

#define PYFASTNN_DISPATCH(arr, out_shape, CALL)                                                               \
  ((arr).dtype().is(py::dtype::of<float>())                                                                   \
       ? run_plain<float>((arr), (out_shape), [&](const float* a, float* b) { CALL; })                       \
       : run_plain<double>((arr), (out_shape), [&](const double* a, double* b) { CALL; }))

int64_t divisor_arg(const py::object& obj, const char* op) {
  if (obj.is_none()) return 0;
  const int64_t v = obj.cast<int64_t>();
  if (v == 0) value_error(op, "divisor must be not zero");
  if (v < 0) value_error(op, "divisor_override must be positive, got " + std::to_string(v));
  return v;
}

py::array avg_pool2d_forward(const py::object& x_obj, Pair k, Pair s, Pair p, bool ceil_mode, bool count_include_pad,
                             const py::object& divisor_override) {
  const char* op = "avg_pool2d";
  py::array x = image_arg(x_obj, op, "x", 2);
  const int64_t dov = divisor_arg(divisor_override, op);
  auto in = shape_of(x);
  const Window w{k, s, p, {1, 1}};
  const Pair o = check_window(op, in, w, ceil_mode);
  const Pool2dGeom g = geometry(in, o.first, o.second, &w);
  auto out = in;
  out[in.size() - 2] = o.first;
  out[in.size() - 1] = o.second;
  const int threads = num_threads();
  return PYFASTNN_DISPATCH(x, out, avg_pool2d_forward(a, b, g, count_include_pad, dov, threads));
}

py::array avg_pool2d_backward(const py::object& gy_obj, const py::object& input_shape, Pair k, Pair s, Pair p,
                              bool ceil_mode, bool count_include_pad, const py::object& divisor_override) {
  const char* op = "avg_pool2d_backward";
  py::array gy = image_arg(gy_obj, op, "gy", 2);
  const int64_t dov = divisor_arg(divisor_override, op);
  auto in = shape_arg(input_shape, op);
  check_lead(in, gy, op);
  const Window w{k, s, p, {1, 1}};
  const Pair o = check_window(op, in, w, ceil_mode);
  if (gy.shape(gy.ndim() - 2) != o.first || gy.shape(gy.ndim() - 1) != o.second)
    value_error(op, "argument 'gy' of shape " + shape_str(gy) + " does not have the output size " + pair_str(o) +
                        " of this pooling");
  const Pool2dGeom g = geometry(in, o.first, o.second, &w);
  const int threads = num_threads();
  return PYFASTNN_DISPATCH(gy, in, avg_pool2d_backward(a, b, g, count_include_pad, dov, threads));
}

Pair adaptive_size(const py::array& x, Pair out, const char* op) {
  if (out.first < 0 || out.second < 0) value_error(op, "output_size must be non-negative, got " + pair_str(out));
  if (x.shape(x.ndim() - 2) == 0 || x.shape(x.ndim() - 1) == 0)
    value_error(op, "expected an input with non-zero height and width, got shape " + shape_str(x));
  return out;
}

py::array adaptive_avg_pool2d_forward(const py::object& x_obj, Pair out_size) {
  const char* op = "adaptive_avg_pool2d";
  py::array x = image_arg(x_obj, op, "x", 2);
  const Pair o = adaptive_size(x, out_size, op);
  auto in = shape_of(x), out = in;
  out[in.size() - 2] = o.first;
  out[in.size() - 1] = o.second;
  const Pool2dGeom g = geometry(in, o.first, o.second, nullptr);
  const int threads = num_threads();
  if (o.first == 0 || o.second == 0) return new_like(x, out);
  return PYFASTNN_DISPATCH(x, out, adaptive_avg_pool2d_forward(a, b, g, threads));
}

py::array adaptive_avg_pool2d_backward(const py::object& gy_obj, const py::object& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  py::array gy = image_arg(gy_obj, op, "gy", 2);
  auto in = shape_arg(input_shape, op);
  check_lead(in, gy, op);
  if (in[in.size() - 2] == 0 || in[in.size() - 1] == 0) value_error(op, "expected an input with non-zero height and width");
  const Pool2dGeom g = geometry(in, gy.shape(gy.ndim() - 2), gy.shape(gy.ndim() - 1), nullptr);
  const int threads = num_threads();
  return PYFASTNN_DISPATCH(gy, in, adaptive_avg_pool2d_backward(a, b, g, threads));
}

py::tuple adaptive_max_pool2d_forward(const py::object& x_obj, Pair out_size, const std::string& indices) {
  const char* op = "adaptive_max_pool2d";
  py::array x = image_arg(x_obj, op, "x", 2);
  const IndexKind kind = index_kind(indices, op);
  const Pair o = adaptive_size(x, out_size, op);
  auto in = shape_of(x), out = in;
  out[in.size() - 2] = o.first;
  out[in.size() - 1] = o.second;
  if (kind == IndexKind::i32 && in[in.size() - 2] * in[in.size() - 1] > INT32_MAX)
    value_error(op, "int32 indices cannot address a plane of more than 2^31 - 1 elements");
  const Pool2dGeom g = geometry(in, o.first, o.second, nullptr);
  const int threads = num_threads();
  if (x.dtype().is(py::dtype::of<float>()))
    return forward_with_indices<float>(x, out, kind, [&](const float* xp, float* yp, auto* ip) {
      adaptive_max_pool2d_forward(xp, yp, ip, g, threads);
    });
  return forward_with_indices<double>(x, out, kind, [&](const double* xp, double* yp, auto* ip) {
    adaptive_max_pool2d_forward(xp, yp, ip, g, threads);
  });
}

py::array_t<int64_t> index_arg(const py::object& obj, int64_t bound, const char* op, const char* arg) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a 1-D int64 numpy array", obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<int64_t>()) || a.ndim() != 1) type_error(op, arg, "a 1-D int64 numpy array", obj);
  auto arr = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  const int64_t* p = arr.data();
  for (py::ssize_t i = 0; i < arr.size(); ++i)
    if (p[i] < 0 || p[i] >= bound)
      value_error(op, std::string("argument '") + arg + "' holds " + std::to_string(p[i]) + ", outside [0, " +
                          std::to_string(bound) + ")");
  return arr;
}

py::array upsample_forward(const py::object& x_obj, const py::object& ih_obj, const py::object& iw_obj) {
  const char* op = "upsample_nearest2d";
  py::array x = image_arg(x_obj, op, "x", 2);
  auto in = shape_of(x);
  auto ih = index_arg(ih_obj, in[in.size() - 2], op, "ih");
  auto iw = index_arg(iw_obj, in[in.size() - 1], op, "iw");
  auto out = in;
  out[in.size() - 2] = ih.size();
  out[in.size() - 1] = iw.size();
  const Pool2dGeom g = geometry(in, ih.size(), iw.size(), nullptr);
  const int64_t *hp = ih.data(), *wp = iw.data();
  const int threads = num_threads();
  return PYFASTNN_DISPATCH(x, out, upsample_nearest2d_forward(a, b, g, hp, wp, threads));
}

py::array upsample_backward(const py::object& gy_obj, const py::object& ih_obj, const py::object& iw_obj,
                            const py::object& input_shape) {
  const char* op = "upsample_nearest2d_backward";
  py::array gy = image_arg(gy_obj, op, "gy", 2);
  auto in = shape_arg(input_shape, op);
  check_lead(in, gy, op);
  auto ih = index_arg(ih_obj, in[in.size() - 2], op, "ih");
  auto iw = index_arg(iw_obj, in[in.size() - 1], op, "iw");
  if (gy.shape(gy.ndim() - 2) != ih.size() || gy.shape(gy.ndim() - 1) != iw.size())
    value_error(op, "argument 'gy' of shape " + shape_str(gy) + " does not match the index arrays");
  const Pool2dGeom g = geometry(in, ih.size(), iw.size(), nullptr);
  const int64_t *hp = ih.data(), *wp = iw.data();
  const int threads = num_threads();
  return PYFASTNN_DISPATCH(gy, in, upsample_nearest2d_backward(a, b, g, hp, wp, threads));
}

#undef PYFASTNN_DISPATCH

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(pool) {
  using namespace pybind11::literals;
  m.def("max_pool2d_forward", &max_pool2d_forward, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a, "dilation"_a,
        "ceil_mode"_a, "indices"_a = "int64",
        "(y, indices) of 2-D max pooling over the last two dimensions of a C-contiguous float32/float64 array; "
        "kernel_size, stride, padding, dilation: (h, w) pairs; indices: 'int64', 'int32' or 'none' (then None), "
        "flat positions ih * W + iw in the input plane (first maximum wins a tie, NaN propagates).");
  m.def("max_pool2d_backward", &max_pool2d_backward, "gy"_a, "indices"_a, "input_shape"_a, "kernel_size"_a = py::none(),
        "stride"_a = py::none(), "padding"_a = py::make_tuple(0, 0), "dilation"_a = py::make_tuple(1, 1),
        "gx of shape input_shape: gy added at the argmax positions. With the forward pass's window (kernel_size, ...) "
        "a tiling geometry (kernel == stride, no padding or dilation) writes gx in one dense pass; otherwise a scatter. "
        "Indices outside the plane are skipped. Used for adaptive max pooling too (kernel_size None).");
  m.def("avg_pool2d_forward", &avg_pool2d_forward, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a, "ceil_mode"_a,
        "count_include_pad"_a, "divisor_override"_a = py::none(), "2-D average pooling (PyTorch's divisor rules).");
  m.def("avg_pool2d_backward", &avg_pool2d_backward, "gy"_a, "input_shape"_a, "kernel_size"_a, "stride"_a, "padding"_a,
        "ceil_mode"_a, "count_include_pad"_a, "divisor_override"_a = py::none(), "Gradient of avg_pool2d_forward.");
  m.def("adaptive_avg_pool2d_forward", &adaptive_avg_pool2d_forward, "x"_a, "output_size"_a,
        "Adaptive average pooling to output_size (oh, ow): windows [floor(o*I/O), ceil((o+1)*I/O)).");
  m.def("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward, "gy"_a, "input_shape"_a);
  m.def("adaptive_max_pool2d_forward", &adaptive_max_pool2d_forward, "x"_a, "output_size"_a, "indices"_a = "int64",
        "(y, indices) of adaptive max pooling; backward: max_pool2d_backward without a window.");
  m.def("upsample_nearest2d_forward", &upsample_forward, "x"_a, "ih"_a, "iw"_a,
        "y[..., oh, ow] = x[..., ih[oh], iw[ow]] (ih, iw: int64 source rows and columns).");
  m.def("upsample_nearest2d_backward", &upsample_backward, "gy"_a, "ih"_a, "iw"_a, "input_shape"_a,
        "gx of input_shape: gy accumulated at the source positions.");
}
