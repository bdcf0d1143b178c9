// pyfastnn._C.conv2d_forward / conv2d_backward / conv_transpose2d_forward /
// conv_transpose2d_backward / conv2d_algorithm: 2-D convolution on NCHW arrays.
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "bindings/common.h"
#include "bindings/gemm_epilogue.h"
#include "pyfastnn/conv.h"

namespace pyfastnn {
namespace bind {
namespace {

using Shape = std::vector<int64_t>;

Shape shape_of(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }

std::string dims(const Shape& a) {
  std::string s = "[";
  for (std::size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + std::to_string(a[i]);
  return s + "]";
}
std::string dims(const py::array& a) { return dims(shape_of(a)); }

// An int, or a sequence of `count` ints (an int is repeated), each >= lo.
std::vector<int64_t> int_tuple(const py::handle& obj, std::size_t count, int64_t lo, const char* op, const char* arg) {
  std::vector<int64_t> v;
  const std::string want = "an int or a tuple of " + std::to_string(count) + " ints";
  if (py::isinstance<py::int_>(obj) && !py::isinstance<py::bool_>(obj)) {
    v.assign(count, obj.cast<int64_t>());
  } else if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj)) {
    for (const py::handle& item : py::reinterpret_borrow<py::sequence>(obj)) {
      if (!py::isinstance<py::int_>(item) || py::isinstance<py::bool_>(item)) type_error(op, arg, want, obj);
      v.push_back(item.cast<int64_t>());
    }
    if (v.size() != count) type_error(op, arg, want, obj);
  } else {
    type_error(op, arg, want, obj);
  }
  for (int64_t x : v)
    if (x < lo)
      value_error(op, std::string("argument '") + arg + "' must be >= " + std::to_string(lo) + ", got " +
                          std::string(py::str(obj)));
  return v;
}

// (top, bottom, left, right) from an int, (ph, pw) or (top, bottom, left, right).
std::vector<int64_t> padding_arg(const py::handle& obj, const char* op) {
  if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj) && py::len(obj) == 4)
    return int_tuple(obj, 4, 0, op, "padding");
  const std::vector<int64_t> p = int_tuple(obj, 2, 0, op, "padding");
  return {p[0], p[0], p[1], p[1]};
}

ConvAlgo algo_arg(const py::handle& obj, const char* op) {
  if (obj.is_none()) return ConvAlgo::automatic;
  if (!py::isinstance<py::str>(obj)) type_error(op, "algo", "None or a string", obj);
  const std::string s = py::str(obj);
  if (s == "auto") return ConvAlgo::automatic;
  if (s == "im2col") return ConvAlgo::im2col;
  if (s == "1x1") return ConvAlgo::gemm_1x1;
  if (s == "depthwise") return ConvAlgo::depthwise;
  if (s == "implicit") return ConvAlgo::implicit;
  if (s == "winograd") return ConvAlgo::winograd;
  value_error(op, "unknown algo '" + s +
                      "'; expected None, 'auto', 'implicit', 'winograd', 'im2col', '1x1' or 'depthwise'");
}

const char* algo_name(ConvAlgo a) {
  switch (a) {
    case ConvAlgo::im2col:
      return "im2col";
    case ConvAlgo::gemm_1x1:
      return "1x1";
    case ConvAlgo::depthwise:
      return "depthwise";
    case ConvAlgo::implicit:
      return "implicit";
    case ConvAlgo::winograd:
      return "winograd";
    default:
      return "auto";
  }
}

// `obj` as a C-contiguous 4-D array of dtype T (a strided view is copied).
template <class T>
py::array_t<T, py::array::c_style> tensor4(const py::handle& obj, const char* op, const char* arg, const char* what) {
  const std::string want = std::string(sizeof(T) == 4 ? "a float32" : "a float64") + " numpy array (the dtype of 'x')";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  if (arr.ndim() != 4)
    value_error(op, std::string("argument '") + arg + "' must be 4-D " + what + ", got shape " + shape_str(arr));
  return py::array_t<T, py::array::c_style>::ensure(arr);
}

template <class T>
const T* vector_arg(const py::handle& obj, int64_t n, const char* op, const char* what,
                    py::array_t<T, py::array::c_style>* keep) {
  if (obj.is_none()) return nullptr;
  const char* want = sizeof(T) == 4 ? "None or a float32 numpy array" : "None or a float64 numpy array";
  if (!py::isinstance<py::array>(obj)) type_error(op, "bias", want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, "bias", want, obj);
  if (arr.ndim() != 1 || arr.shape(0) != n)
    value_error(op, "argument 'bias' must have shape (" + std::to_string(n) + ",) (" + what + "), got " +
                        shape_str(arr));
  *keep = py::array_t<T, py::array::c_style>::ensure(arr);
  return keep->data();
}

struct Params {
  std::vector<int64_t> stride, pad, dil, out_pad;
  int64_t groups = 1;
  ConvAlgo algo = ConvAlgo::automatic;
  int64_t band_rows = 0;
};

Params params(const py::handle& stride, const py::handle& padding, const py::handle& dilation, int64_t groups,
              const py::handle& algo, int64_t band_rows, const char* op) {
  Params p;
  p.stride = int_tuple(stride, 2, 1, op, "stride");
  p.pad = padding_arg(padding, op);
  p.dil = int_tuple(dilation, 2, 1, op, "dilation");
  if (groups < 1) value_error(op, "argument 'groups' must be a positive int, got " + std::to_string(groups));
  p.groups = groups;
  p.algo = algo_arg(algo, op);
  if (band_rows < 0) value_error(op, "argument 'band_rows' must be >= 0");
  p.band_rows = band_rows;
  return p;
}

void check_algo(const Conv2dGeometry& g, const char* op) {
  if (!conv2d_algo_applies(g, g.algo))
    value_error(op, std::string("algo '") + algo_name(g.algo) + "' cannot run this convolution (" +
                        (g.algo == ConvAlgo::gemm_1x1   ? "it needs a 1x1 kernel, stride 1 and no padding"
                         : g.algo == ConvAlgo::winograd ? "it needs a 3x3 kernel, stride 1, dilation 1 and one group"
                                                        : "it needs one input channel per group") +
                        ")");
}

// The geometry of y = conv2d(x, w): checks the shapes the way PyTorch does, with messages
// that show both (and spot channels-last input).
Conv2dGeometry conv_geometry(const Shape& x, const Shape& w, const Params& p, const char* op) {
  Conv2dGeometry g;
  g.n = x[0];
  g.c = x[1];
  g.h = x[2];
  g.w = x[3];
  g.oc = w[0];
  g.kh = w[2];
  g.kw = w[3];
  g.groups = p.groups;
  if (g.oc % p.groups != 0)
    value_error(op, "out_channels (weight.shape[0] = " + std::to_string(g.oc) + ") must be divisible by groups = " +
                        std::to_string(p.groups));
  if (w[1] * p.groups != g.c) {
    std::string msg = "expected input[N, C, H, W] with C = " + std::to_string(w[1] * p.groups) +
                      " (weight " + dims(w) + ", groups=" + std::to_string(p.groups) + "), got " + dims(x) +
                      " with C = " + std::to_string(g.c);
    if (x[3] == w[1] * p.groups)
      msg += "; this looks like channels-last (NHWC) data: pass x.transpose(0, 3, 1, 2) (NCHW)";
    value_error(op, msg);
  }
  if (g.kh < 1 || g.kw < 1) value_error(op, "kernel size must be positive, got weight " + dims(w));
  g.stride_h = p.stride[0];
  g.stride_w = p.stride[1];
  g.pad_h = p.pad[0];
  g.pad_w = p.pad[2];
  g.dil_h = p.dil[0];
  g.dil_w = p.dil[1];
  const int64_t eh = g.dil_h * (g.kh - 1) + 1, ew = g.dil_w * (g.kw - 1) + 1;
  const int64_t ph = g.h + p.pad[0] + p.pad[1], pw = g.w + p.pad[2] + p.pad[3];
  if (eh > ph || ew > pw)
    value_error(op, "kernel size (" + std::to_string(eh) + ", " + std::to_string(ew) +
                        ") (dilated) can't be greater than the padded input size (" + std::to_string(ph) + ", " +
                        std::to_string(pw) + ") of input " + dims(x));
  g.oh = (ph - eh) / g.stride_h + 1;
  g.ow = (pw - ew) / g.stride_w + 1;
  g.algo = p.algo;
  g.band_rows = p.band_rows;
  check_algo(g, op);
  return g;
}

// The conv geometry whose backward-data is conv_transpose2d(x, w): the conv's input is the
// transposed convolution's output (N, w.shape[1] * groups, HT, WT), its output x.
Conv2dGeometry transpose_geometry(const Shape& x, const Shape& w, const Params& p, const char* op) {
  Conv2dGeometry g;
  if (w[0] != x[1]) {
    std::string msg = "expected input[N, C, H, W] with C = " + std::to_string(w[0]) + " (weight " + dims(w) +
                      " is (in_channels, out_channels / groups, kH, kW)), got " + dims(x) + " with C = " +
                      std::to_string(x[1]);
    if (x[3] == w[0])
      msg += "; this looks like channels-last (NHWC) data: pass x.transpose(0, 3, 1, 2) (NCHW)";
    value_error(op, msg);
  }
  if (w[0] % p.groups != 0)
    value_error(op, "in_channels (weight.shape[0] = " + std::to_string(w[0]) +
                        ") must be divisible by groups = " + std::to_string(p.groups));
  g.n = x[0];
  g.oc = x[1];
  g.oh = x[2];
  g.ow = x[3];
  g.c = w[1] * p.groups;
  g.kh = w[2];
  g.kw = w[3];
  g.groups = p.groups;
  if (g.kh < 1 || g.kw < 1) value_error(op, "kernel size must be positive, got weight " + dims(w));
  g.stride_h = p.stride[0];
  g.stride_w = p.stride[1];
  g.pad_h = p.pad[0];
  g.pad_w = p.pad[2];
  g.dil_h = p.dil[0];
  g.dil_w = p.dil[1];
  for (int i = 0; i < 2; ++i)
    if (p.out_pad[i] >= p.stride[i] && p.out_pad[i] >= p.dil[i])
      value_error(op, "output padding must be smaller than either stride or dilation, got output_padding=(" +
                          std::to_string(p.out_pad[0]) + ", " + std::to_string(p.out_pad[1]) + "), stride=(" +
                          std::to_string(p.stride[0]) + ", " + std::to_string(p.stride[1]) + "), dilation=(" +
                          std::to_string(p.dil[0]) + ", " + std::to_string(p.dil[1]) + ")");
  g.h = (g.oh - 1) * g.stride_h - p.pad[0] - p.pad[1] + g.dil_h * (g.kh - 1) + p.out_pad[0] + 1;
  g.w = (g.ow - 1) * g.stride_w - p.pad[2] - p.pad[3] + g.dil_w * (g.kw - 1) + p.out_pad[1] + 1;
  if (g.h <= 0 || g.w <= 0)
    value_error(op, "the output size (" + std::to_string(g.h) + ", " + std::to_string(g.w) + ") of input " +
                        dims(x) + " is too small (padding too large)");
  g.algo = p.algo;
  g.band_rows = p.band_rows;
  check_algo(g, op);
  return g;
}

template <class T>
py::array_t<T> new4(int64_t a, int64_t b, int64_t c, int64_t d) {
  return py::array_t<T>({static_cast<py::ssize_t>(a), static_cast<py::ssize_t>(b), static_cast<py::ssize_t>(c),
                         static_cast<py::ssize_t>(d)});
}

template <class T>
py::object forward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& b_obj, const Params& p,
                   const py::handle& act_obj) {
  const char* op = "conv2d_forward";
  auto x = tensor4<T>(x_obj, op, "x", "(N, C, H, W)");
  auto w = tensor4<T>(w_obj, op, "weight", "(out_channels, in_channels / groups, kH, kW)");
  const Conv2dGeometry g = conv_geometry(shape_of(x), shape_of(w), p, op);
  py::array_t<T, py::array::c_style> keep;
  const T* bias = vector_arg<T>(b_obj, g.oc, op, "out_channels", &keep);
  const GemmActivation act = parse_activation(act_obj, op);
  py::array_t<T> y = new4<T>(g.n, g.oc, g.oh, g.ow);
  T* yp = y.mutable_data();
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    conv2d_forward(g, x.data(), w.data(), bias, act, yp, threads);
  }
  return std::move(y);
}

template <class T>
py::object backward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& y_obj,
                    const py::handle& gy_obj, const Params& p, const py::handle& act_obj, bool need_dx, bool need_dw,
                    bool need_db) {
  const char* op = "conv2d_backward";
  auto x = tensor4<T>(x_obj, op, "x", "(N, C, H, W)");
  auto w = tensor4<T>(w_obj, op, "weight", "(out_channels, in_channels / groups, kH, kW)");
  const Conv2dGeometry g = conv_geometry(shape_of(x), shape_of(w), p, op);
  const GemmActivation act = parse_activation(act_obj, op);
  auto check_out = [&](const py::array& a, const char* arg) {
    if (a.shape(0) != g.n || a.shape(1) != g.oc || a.shape(2) != g.oh || a.shape(3) != g.ow)
      value_error(op, std::string("argument '") + arg + "' must have the output's shape [" + std::to_string(g.n) +
                          ", " + std::to_string(g.oc) + ", " + std::to_string(g.oh) + ", " + std::to_string(g.ow) +
                          "], got " + dims(a));
  };
  auto gy = tensor4<T>(gy_obj, op, "gy", "(N, out_channels, OH, OW)");
  check_out(gy, "gy");
  py::array_t<T, py::array::c_style> y;
  if (act != GemmActivation::none) {
    if (y_obj.is_none()) value_error(op, "argument 'y' (the forward output) is needed for the activation's gradient");
    y = tensor4<T>(y_obj, op, "y", "(N, out_channels, OH, OW)");
    check_out(y, "y");
  }
  py::object dx = py::none(), dw = py::none(), db = py::none();
  Conv2dGrads<T> grads;
  if (need_dx) {
    auto a = new4<T>(g.n, g.c, g.h, g.w);
    grads.dx = a.mutable_data();
    dx = std::move(a);
  }
  if (need_dw) {
    auto a = new4<T>(g.oc, g.c / g.groups, g.kh, g.kw);
    grads.dw = a.mutable_data();
    dw = std::move(a);
  }
  if (need_db) {
    py::array_t<T> a(static_cast<py::ssize_t>(g.oc));
    grads.db = a.mutable_data();
    db = std::move(a);
  }
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    conv2d_backward(g, x.data(), w.data(), y ? y.data() : nullptr, gy.data(), act, grads, threads);
  }
  return py::make_tuple(dx, dw, db);
}

template <class T>
py::object transpose_forward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& b_obj,
                             const Params& p) {
  const char* op = "conv_transpose2d_forward";
  auto x = tensor4<T>(x_obj, op, "x", "(N, C, H, W)");
  auto w = tensor4<T>(w_obj, op, "weight", "(in_channels, out_channels / groups, kH, kW)");
  const Conv2dGeometry g = transpose_geometry(shape_of(x), shape_of(w), p, op);
  py::array_t<T, py::array::c_style> keep;
  const T* bias = vector_arg<T>(b_obj, g.c, op, "out_channels", &keep);
  py::array_t<T> y = new4<T>(g.n, g.c, g.h, g.w);
  T* yp = y.mutable_data();
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    conv2d_backward_data(g, w.data(), x.data(), bias, yp, threads);
  }
  return std::move(y);
}

// Gradients of y = conv_transpose2d(x, w) + b given gy: dx = conv2d(gy, w), dw = conv2d's
// weight gradient with gy as its input and x as its output gradient, db = gy's channel sums.
template <class T>
py::object transpose_backward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& gy_obj,
                              const Params& p, bool need_dx, bool need_dw, bool need_db) {
  const char* op = "conv_transpose2d_backward";
  auto x = tensor4<T>(x_obj, op, "x", "(N, C, H, W)");
  auto w = tensor4<T>(w_obj, op, "weight", "(in_channels, out_channels / groups, kH, kW)");
  const Conv2dGeometry g = transpose_geometry(shape_of(x), shape_of(w), p, op);
  auto gy = tensor4<T>(gy_obj, op, "gy", "(N, out_channels, H_out, W_out)");
  if (gy.shape(0) != g.n || gy.shape(1) != g.c || gy.shape(2) != g.h || gy.shape(3) != g.w)
    value_error(op, "argument 'gy' must have the output's shape [" + std::to_string(g.n) + ", " +
                        std::to_string(g.c) + ", " + std::to_string(g.h) + ", " + std::to_string(g.w) + "], got " +
                        dims(gy));
  py::object dx = py::none(), dw = py::none(), db = py::none();
  T *dxp = nullptr, *dbp = nullptr;
  Conv2dGrads<T> wg;
  if (need_dx) {
    auto a = new4<T>(g.n, g.oc, g.oh, g.ow);
    dxp = a.mutable_data();
    dx = std::move(a);
  }
  if (need_dw) {
    auto a = new4<T>(g.oc, g.c / g.groups, g.kh, g.kw);
    wg.dw = a.mutable_data();
    dw = std::move(a);
  }
  if (need_db) {
    py::array_t<T> a(static_cast<py::ssize_t>(g.c));
    dbp = a.mutable_data();
    db = std::move(a);
  }
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    if (dxp) conv2d_forward(g, gy.data(), w.data(), static_cast<const T*>(nullptr), GemmActivation::none, dxp, threads);
    if (wg.dw)
      conv2d_backward(g, gy.data(), w.data(), static_cast<const T*>(nullptr), x.data(), GemmActivation::none, wg,
                      threads);
    if (dbp) channel_sums(gy.data(), g.n, g.c, g.h * g.w, dbp, threads);
  }
  return py::make_tuple(dx, dw, db);
}

bool is_f64(const py::handle& obj) {
  return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<double>());
}
bool is_f32(const py::handle& obj) {
  return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<float>());
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(conv) {
  using namespace pybind11::literals;
  using pyfastnn::ConvAlgo;
  m.def(
      "conv2d_forward",
      [](const py::object& x, const py::object& weight, const py::object& bias, const py::object& stride,
         const py::object& padding, const py::object& dilation, int64_t groups, const py::object& activation,
         const py::object& algo, int64_t band_rows) {
        const char* op = "conv2d_forward";
        const Params p = params(stride, padding, dilation, groups, algo, band_rows, op);
        if (is_f64(x)) return forward<double>(x, weight, bias, p, activation);
        if (is_f32(x)) return forward<float>(x, weight, bias, p, activation);
        type_error(op, "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "bias"_a = py::none(), "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1, "groups"_a = 1,
      "activation"_a = py::none(), "algo"_a = py::none(), "band_rows"_a = 0,
      "y = act(conv2d(x, weight) + bias) as a new (N, out_channels, OH, OW) array: x (N, C, H, W), weight "
      "(out_channels, C / groups, kH, kW), bias None or (out_channels,); stride and dilation an int or a pair, "
      "padding an int, (pad_h, pad_w) or (top, bottom, left, right); activation None or 'relu' (fused). algo "
      "forces 'implicit', 'winograd', 'im2col', '1x1' or 'depthwise' (default: chosen per shape); band_rows forces the "
      "output rows per band (0: from the cache budget). float32 or float64 (x's dtype; the others must match).");
  m.def(
      "conv2d_backward",
      [](const py::object& x, const py::object& weight, const py::object& y, const py::object& gy,
         const py::object& stride, const py::object& padding, const py::object& dilation, int64_t groups,
         const py::object& activation, bool need_dx, bool need_dw, bool need_db, const py::object& algo,
         int64_t band_rows) {
        const char* op = "conv2d_backward";
        const Params p = params(stride, padding, dilation, groups, algo, band_rows, op);
        if (is_f64(x)) return backward<double>(x, weight, y, gy, p, activation, need_dx, need_dw, need_db);
        if (is_f32(x)) return backward<float>(x, weight, y, gy, p, activation, need_dx, need_dw, need_db);
        type_error(op, "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "y"_a, "gy"_a, "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1, "groups"_a = 1,
      "activation"_a = py::none(), "need_dx"_a = true, "need_dw"_a = true, "need_db"_a = true, "algo"_a = py::none(),
      "band_rows"_a = 0,
      "(dx, dw, db) of y = act(conv2d(x, weight) + b) given gy = dL/dy, with the GIL released once; y (the "
      "forward output) is read only for activation 'relu'. Gradients not asked for come back as None.");
  m.def(
      "conv_transpose2d_forward",
      [](const py::object& x, const py::object& weight, const py::object& bias, const py::object& stride,
         const py::object& padding, const py::object& output_padding, const py::object& dilation, int64_t groups,
         const py::object& algo, int64_t band_rows) {
        const char* op = "conv_transpose2d_forward";
        Params p = params(stride, padding, dilation, groups, algo, band_rows, op);
        p.out_pad = int_tuple(output_padding, 2, 0, op, "output_padding");
        if (is_f64(x)) return transpose_forward<double>(x, weight, bias, p);
        if (is_f32(x)) return transpose_forward<float>(x, weight, bias, p);
        type_error(op, "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "bias"_a = py::none(), "stride"_a = 1, "padding"_a = 0, "output_padding"_a = 0,
      "dilation"_a = 1, "groups"_a = 1, "algo"_a = py::none(), "band_rows"_a = 0,
      "y = conv_transpose2d(x, weight) + bias (PyTorch's semantics): x (N, in_channels, H, W), weight "
      "(in_channels, out_channels / groups, kH, kW); the output has (H - 1) * stride - pad_top - pad_bottom + "
      "dilation * (kH - 1) + output_padding + 1 rows (likewise columns).");
  m.def(
      "conv_transpose2d_backward",
      [](const py::object& x, const py::object& weight, const py::object& gy, const py::object& stride,
         const py::object& padding, const py::object& output_padding, const py::object& dilation, int64_t groups,
         bool need_dx, bool need_dw, bool need_db, const py::object& algo, int64_t band_rows) {
        const char* op = "conv_transpose2d_backward";
        Params p = params(stride, padding, dilation, groups, algo, band_rows, op);
        p.out_pad = int_tuple(output_padding, 2, 0, op, "output_padding");
        if (is_f64(x)) return transpose_backward<double>(x, weight, gy, p, need_dx, need_dw, need_db);
        if (is_f32(x)) return transpose_backward<float>(x, weight, gy, p, need_dx, need_dw, need_db);
        type_error(op, "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "gy"_a, "stride"_a = 1, "padding"_a = 0, "output_padding"_a = 0, "dilation"_a = 1,
      "groups"_a = 1, "need_dx"_a = true, "need_dw"_a = true, "need_db"_a = true, "algo"_a = py::none(),
      "band_rows"_a = 0, "(dx, dw, db) of y = conv_transpose2d(x, weight) + b given gy = dL/dy.");
  m.def(
      "conv2d_algorithm",
      [](const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape, const py::object& stride,
         const py::object& padding, const py::object& dilation, int64_t groups) {
        const char* op = "conv2d_algorithm";
        if (x_shape.size() != 4 || w_shape.size() != 4) value_error(op, "x_shape and w_shape must have 4 values");
        const Params p = params(stride, padding, dilation, groups, py::none(), 0, op);
        return std::string(algo_name(pyfastnn::conv2d_choose_algo(conv_geometry(x_shape, w_shape, p, op))));
      },
      "x_shape"_a, "w_shape"_a, "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1, "groups"_a = 1,
      "The algorithm conv2d_forward picks for these shapes: 'implicit', 'im2col', '1x1' or 'depthwise'.");
}
