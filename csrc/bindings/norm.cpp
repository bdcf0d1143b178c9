// pyfastnn._C normalization: batch_norm / layer_norm / local_response_norm forward and
// backward (pyfastnn/norm.h). Inputs are C-contiguous float32/float64 arrays; per-channel
// vectors (weight, bias, running statistics) have the input's dtype; saved statistics are
// float64. Everything is checked here before a kernel runs.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/norm.h"

namespace pyfastnn {
namespace bind {
namespace {

using Shape = std::vector<py::ssize_t>;

Shape shape_of(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }

std::string shape_text(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

bool is_float(const py::array& a) {
  return a.dtype().is(py::dtype::of<float>()) || a.dtype().is(py::dtype::of<double>());
}

// A C-contiguous float32/float64 array with at least `min_ndim` dimensions.
py::array data_arg(const py::handle& obj, const char* op, const char* arg, int min_ndim) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!is_float(a)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  if (a.ndim() < min_ndim)
    value_error(op, std::string("argument '") + arg + "' must have at least " + std::to_string(min_ndim) +
                        " dimensions, got shape " + shape_str(a));
  if (!(a.flags() & py::array::c_style))
    value_error(op, std::string("argument '") + arg + "' must be C-contiguous; pass numpy.ascontiguousarray(" + arg +
                        ")");
  return a;
}

// An optional array argument (None: present = false).
struct Opt {
  py::array arr;
  bool present = false;
};

// None, or a C-contiguous array of `like`'s dtype and the given shape.
Opt vector_arg(const py::handle& obj, const py::array& like, const Shape& shape, const char* op, const char* arg,
               bool writeable = false) {
  Opt o;
  if (obj.is_none()) return o;
  const std::string want = std::string("None or a ") + std::string(py::str(like.dtype())) + " numpy array (the dtype of the input)";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(like.dtype())) type_error(op, arg, want, obj);
  if (shape_of(a) != shape)
    value_error(op, std::string("argument '") + arg + "' must have shape " + shape_text(shape) + ", got " +
                        shape_str(a));
  if (!(a.flags() & py::array::c_style)) value_error(op, std::string("argument '") + arg + "' must be C-contiguous");
  if (writeable && !a.writeable()) value_error(op, std::string("argument '") + arg + "' is read-only");
  o.arr = a;
  o.present = true;
  return o;
}

// A C-contiguous float64 array of `n` elements (saved statistics).
py::array stats_arg(const py::handle& obj, int64_t n, const char* op, const char* arg) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float64 numpy array", obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<double>())) type_error(op, arg, "a float64 numpy array", obj);
  if (a.size() != n || !(a.flags() & py::array::c_style))
    value_error(op, std::string("argument '") + arg + "' must be a C-contiguous array of " + std::to_string(n) +
                        " elements, got shape " + shape_str(a));
  return a;
}

template <class T>
const T* cptr(const Opt& o) {
  return o.present ? static_cast<const T*>(o.arr.data()) : nullptr;
}
template <class T>
T* mptr(Opt& o) {
  return o.present ? static_cast<T*>(o.arr.mutable_data()) : nullptr;
}

// (N, C, S) of a batch-norm input (N, C, *).
void ncs(const py::array& x, int64_t* N, int64_t* C, int64_t* S) {
  *N = x.shape(0);
  *C = x.shape(1);
  int64_t s = 1;
  for (py::ssize_t i = 2; i < x.ndim(); ++i) s *= x.shape(i);
  *S = s;
}

// ---------------------------------------------------------------- batch norm

template <class T>
void bn_forward(const py::array& x, py::array& y, const Opt& w, const Opt& b, Opt& rm, Opt& rv, bool training,
                double momentum, double eps, py::array& mean, py::array& invstd) {
  int64_t N, C, S;
  ncs(x, &N, &C, &S);
  const T* xp = static_cast<const T*>(x.data());
  T* yp = static_cast<T*>(y.mutable_data());
  double* mp = static_cast<double*>(mean.mutable_data());
  double* ip = static_cast<double*>(invstd.mutable_data());
  const T *wp = cptr<T>(w), *bp = cptr<T>(b);
  const int threads = num_threads();
  if (training) {  // the running statistics are updated (checked writeable)
    T *rmp = mptr<T>(rm), *rvp = mptr<T>(rv);
    py::gil_scoped_release release;
    batch_norm_forward_train(xp, yp, N, C, S, wp, bp, eps, mp, ip, rmp, rvp, momentum, threads);
  } else {  // only read: they may be read-only
    const T *rmp = cptr<T>(rm), *rvp = cptr<T>(rv);
    py::gil_scoped_release release;
    for (int64_t c = 0; c < C; ++c) {
      mp[c] = static_cast<double>(rmp[c]);
      ip[c] = 1.0 / std::sqrt(static_cast<double>(rvp[c]) + eps);
    }
    batch_norm_forward_stats(xp, yp, N, C, S, wp, bp, mp, ip, threads);
  }
}

py::tuple batch_norm_forward(const py::object& x_obj, const py::object& weight, const py::object& bias,
                             const py::object& running_mean, const py::object& running_var, bool training,
                             double momentum, double eps) {
  const char* op = "batch_norm";
  py::array x = data_arg(x_obj, op, "x", 2);
  const Shape cs{x.shape(1)};
  const Opt w = vector_arg(weight, x, cs, op, "weight");
  const Opt b = vector_arg(bias, x, cs, op, "bias");
  Opt rm = vector_arg(running_mean, x, cs, op, "running_mean", training);
  Opt rv = vector_arg(running_var, x, cs, op, "running_var", training);
  if (rm.present != rv.present) value_error(op, "running_mean and running_var must both be given or both be None");
  if (!(eps >= 0)) value_error(op, "eps must be non-negative, got " + std::to_string(eps));
  int64_t N, C, S;
  ncs(x, &N, &C, &S);
  if (training) {
    if (N * S == 1)
      value_error(op, "expected more than 1 value per channel when training, got input of shape " + shape_str(x));
    if (rm.present && !(momentum >= 0 && momentum <= 1))
      value_error(op, "momentum must be in [0, 1], got " + std::to_string(momentum));
  } else if (!rm.present) {
    value_error(op, "running_mean and running_var are needed when not training (or pass training=True to use the "
                    "batch statistics)");
  }
  py::array y(x.dtype(), shape_of(x));
  py::array_t<double> mean(C), invstd(C);
  py::array m = mean, is = invstd;
  if (N * S == 0) {  // an empty batch (PyTorch's behaviour): empty output, running stats untouched
    std::fill_n(mean.mutable_data(), C, 0.0);
    std::fill_n(invstd.mutable_data(), C, 1.0);
    return py::make_tuple(y, mean, invstd);
  }
  if (x.dtype().is(py::dtype::of<float>()))
    bn_forward<float>(x, y, w, b, rm, rv, training, momentum, eps, m, is);
  else
    bn_forward<double>(x, y, w, b, rm, rv, training, momentum, eps, m, is);
  return py::make_tuple(y, mean, invstd);
}

template <class T>
py::tuple bn_backward(const py::array& gy, const py::array& x, const Opt& w, const py::array& mean,
                      const py::array& invstd, bool training, bool need_dx, bool need_dw, bool need_db) {
  int64_t N, C, S;
  ncs(x, &N, &C, &S);
  py::object gx = py::none(), gw = py::none(), gb = py::none();
  T *gxp = nullptr, *gwp = nullptr, *gbp = nullptr;
  if (need_dx) {
    py::array a(x.dtype(), shape_of(x));
    gxp = static_cast<T*>(a.mutable_data());
    gx = a;
  }
  if (need_dw) {
    py::array a(x.dtype(), Shape{C});
    gwp = static_cast<T*>(a.mutable_data());
    gw = a;
  }
  if (need_db) {
    py::array a(x.dtype(), Shape{C});
    gbp = static_cast<T*>(a.mutable_data());
    gb = a;
  }
  const T* gyp = static_cast<const T*>(gy.data());
  const T* xp = static_cast<const T*>(x.data());
  const T* wp = cptr<T>(w);
  const double* mp = static_cast<const double*>(mean.data());
  const double* ip = static_cast<const double*>(invstd.data());
  const int threads = num_threads();
  if (N * S == 0) {  // an empty batch: nothing flows back, the parameter gradients are zero
    if (gwp) std::fill_n(gwp, C, T(0));
    if (gbp) std::fill_n(gbp, C, T(0));
    return py::make_tuple(gx, gw, gb);
  }
  {
    py::gil_scoped_release release;
    batch_norm_backward(gyp, xp, gxp, gwp, gbp, N, C, S, wp, mp, ip, training, threads);
  }
  return py::make_tuple(gx, gw, gb);
}

void same_as_x(const py::array& gy, const py::array& x, const char* op) {
  if (!gy.dtype().is(x.dtype()))
    type_error(op, "gy", std::string("an array of dtype ") + std::string(py::str(x.dtype())) + " (the dtype of 'x')",
               gy);
  if (shape_of(gy) != shape_of(x))
    value_error(op, "argument 'gy' must have the shape of 'x' " + shape_str(x) + ", got " + shape_str(gy));
}

py::tuple batch_norm_backward(const py::object& gy_obj, const py::object& x_obj, const py::object& weight,
                              const py::object& mean_obj, const py::object& invstd_obj, bool training, bool need_dx,
                              bool need_dw, bool need_db) {
  const char* op = "batch_norm_backward";
  py::array x = data_arg(x_obj, op, "x", 2);
  py::array gy = data_arg(gy_obj, op, "gy", 2);
  same_as_x(gy, x, op);
  const Opt w = vector_arg(weight, x, Shape{x.shape(1)}, op, "weight");
  py::array mean = stats_arg(mean_obj, x.shape(1), op, "save_mean");
  py::array invstd = stats_arg(invstd_obj, x.shape(1), op, "save_invstd");
  if (x.dtype().is(py::dtype::of<float>()))
    return bn_backward<float>(gy, x, w, mean, invstd, training, need_dx, need_dw, need_db);
  return bn_backward<double>(gy, x, w, mean, invstd, training, need_dx, need_dw, need_db);
}

// ---------------------------------------------------------------- layer norm

// The trailing dimensions of x that normalized_shape names, and D = their product.
Shape normalized_arg(const py::object& obj, const py::array& x, const char* op, int64_t* D, int64_t* R) {
  Shape ns;
  try {
    for (auto v : py::iterable(obj)) ns.push_back(v.cast<py::ssize_t>());
  } catch (const py::cast_error&) {
    type_error(op, "normalized_shape", "a tuple of ints", obj);
  }
  if (ns.empty()) value_error(op, "normalized_shape must have at least one dimension");
  const Shape xs = shape_of(x);
  bool ok = ns.size() <= xs.size();
  for (size_t i = 0; ok && i < ns.size(); ++i) ok = ns[i] == xs[xs.size() - ns.size() + i];
  if (!ok)
    value_error(op, "input of shape " + shape_str(x) + " does not end with normalized_shape " + shape_text(ns));
  int64_t d = 1, r = 1;
  for (auto v : ns) d *= v;
  for (size_t i = 0; i + ns.size() < xs.size(); ++i) r *= xs[i];
  *D = d;
  *R = r;
  return ns;
}

py::tuple layer_norm_forward(const py::object& x_obj, const py::object& normalized_shape, const py::object& weight,
                             const py::object& bias, double eps) {
  const char* op = "layer_norm";
  py::array x = data_arg(x_obj, op, "x", 1);
  int64_t D, R;
  const Shape ns = normalized_arg(normalized_shape, x, op, &D, &R);
  const Opt w = vector_arg(weight, x, ns, op, "weight");
  const Opt b = vector_arg(bias, x, ns, op, "bias");
  if (!(eps >= 0)) value_error(op, "eps must be non-negative, got " + std::to_string(eps));
  py::array y(x.dtype(), shape_of(x));
  py::array_t<double> mean(R), rstd(R);
  double* mp = mean.mutable_data();
  double* rp = rstd.mutable_data();
  const int threads = num_threads();
  if (x.dtype().is(py::dtype::of<float>())) {
    const float* xp = static_cast<const float*>(x.data());
    float* yp = static_cast<float*>(y.mutable_data());
    const float *wp = cptr<float>(w), *bp = cptr<float>(b);
    py::gil_scoped_release release;
    pyfastnn::layer_norm_forward(xp, yp, R, D, wp, bp, eps, mp, rp, threads);
  } else {
    const double* xp = static_cast<const double*>(x.data());
    double* yp = static_cast<double*>(y.mutable_data());
    const double *wp = cptr<double>(w), *bp = cptr<double>(b);
    py::gil_scoped_release release;
    pyfastnn::layer_norm_forward(xp, yp, R, D, wp, bp, eps, mp, rp, threads);
  }
  return py::make_tuple(y, mean, rstd);
}

template <class T>
py::tuple ln_backward(const py::array& gy, const py::array& x, const Opt& w, const Shape& ns, int64_t R, int64_t D,
                      const py::array& mean, const py::array& rstd, bool need_dx, bool need_dw, bool need_db) {
  py::object gx = py::none(), gw = py::none(), gb = py::none();
  T *gxp = nullptr, *gwp = nullptr, *gbp = nullptr;
  if (need_dx) {
    py::array a(x.dtype(), shape_of(x));
    gxp = static_cast<T*>(a.mutable_data());
    gx = a;
  }
  if (need_dw) {
    py::array a(x.dtype(), ns);
    gwp = static_cast<T*>(a.mutable_data());
    gw = a;
  }
  if (need_db) {
    py::array a(x.dtype(), ns);
    gbp = static_cast<T*>(a.mutable_data());
    gb = a;
  }
  const T* gyp = static_cast<const T*>(gy.data());
  const T* xp = static_cast<const T*>(x.data());
  const T* wp = cptr<T>(w);
  const double* mp = static_cast<const double*>(mean.data());
  const double* rp = static_cast<const double*>(rstd.data());
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    layer_norm_backward(gyp, xp, gxp, gwp, gbp, R, D, wp, mp, rp, threads);
  }
  return py::make_tuple(gx, gw, gb);
}

py::tuple layer_norm_backward(const py::object& gy_obj, const py::object& x_obj, const py::object& normalized_shape,
                              const py::object& weight, const py::object& mean_obj, const py::object& rstd_obj,
                              bool need_dx, bool need_dw, bool need_db) {
  const char* op = "layer_norm_backward";
  py::array x = data_arg(x_obj, op, "x", 1);
  py::array gy = data_arg(gy_obj, op, "gy", 1);
  same_as_x(gy, x, op);
  int64_t D, R;
  const Shape ns = normalized_arg(normalized_shape, x, op, &D, &R);
  const Opt w = vector_arg(weight, x, ns, op, "weight");
  py::array mean = stats_arg(mean_obj, R, op, "mean");
  py::array rstd = stats_arg(rstd_obj, R, op, "rstd");
  if (x.dtype().is(py::dtype::of<float>()))
    return ln_backward<float>(gy, x, w, ns, R, D, mean, rstd, need_dx, need_dw, need_db);
  return ln_backward<double>(gy, x, w, ns, R, D, mean, rstd, need_dx, need_dw, need_db);
}

// ---------------------------------------------------------------- local response norm

void check_lrn(int64_t size, double alpha, double beta, double k, const char* op) {
  if (size < 1) value_error(op, "size must be >= 1, got " + std::to_string(size));
  if (!std::isfinite(alpha) || !std::isfinite(beta) || !std::isfinite(k))
    value_error(op, "alpha, beta and k must be finite");
}

py::array lrn_forward(const py::object& x_obj, int64_t size, double alpha, double beta, double k) {
  const char* op = "local_response_norm";
  py::array x = data_arg(x_obj, op, "x", 3);
  check_lrn(size, alpha, beta, k, op);
  int64_t N, C, S;
  ncs(x, &N, &C, &S);
  py::array y(x.dtype(), shape_of(x));
  const int threads = num_threads();
  if (x.dtype().is(py::dtype::of<float>())) {
    const float* xp = static_cast<const float*>(x.data());
    float* yp = static_cast<float*>(y.mutable_data());
    py::gil_scoped_release release;
    local_response_norm_forward(xp, yp, N, C, S, size, alpha, beta, k, threads);
  } else {
    const double* xp = static_cast<const double*>(x.data());
    double* yp = static_cast<double*>(y.mutable_data());
    py::gil_scoped_release release;
    local_response_norm_forward(xp, yp, N, C, S, size, alpha, beta, k, threads);
  }
  return y;
}

py::array lrn_backward(const py::object& gy_obj, const py::object& x_obj, int64_t size, double alpha, double beta,
                       double k) {
  const char* op = "local_response_norm_backward";
  py::array x = data_arg(x_obj, op, "x", 3);
  py::array gy = data_arg(gy_obj, op, "gy", 3);
  same_as_x(gy, x, op);
  check_lrn(size, alpha, beta, k, op);
  int64_t N, C, S;
  ncs(x, &N, &C, &S);
  py::array gx(x.dtype(), shape_of(x));
  const int threads = num_threads();
  if (x.dtype().is(py::dtype::of<float>())) {
    const float* gp = static_cast<const float*>(gy.data());
    const float* xp = static_cast<const float*>(x.data());
    float* out = static_cast<float*>(gx.mutable_data());
    py::gil_scoped_release release;
    local_response_norm_backward(gp, xp, out, N, C, S, size, alpha, beta, k, threads);
  } else {
    const double* gp = static_cast<const double*>(gy.data());
    const double* xp = static_cast<const double*>(x.data());
    double* out = static_cast<double*>(gx.mutable_data());
    py::gil_scoped_release release;
    local_response_norm_backward(gp, xp, out, N, C, S, size, alpha, beta, k, threads);
  }
  return gx;
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(norm) {
  using namespace pybind11::literals;
  m.def("batch_norm_forward", &batch_norm_forward, "x"_a, "weight"_a, "bias"_a, "running_mean"_a, "running_var"_a,
        "training"_a, "momentum"_a, "eps"_a,
        "(y, save_mean, save_invstd) of batch norm over dimension 1 of a C-contiguous (N, C, *) float32/float64 "
        "array. training: batch statistics (biased variance), running_mean/running_var (None or (C,) arrays of x's "
        "dtype) updated in place with momentum and the unbiased variance; otherwise the running statistics are "
        "used. save_mean, save_invstd: float64 (C,), for batch_norm_backward.");
  m.def("batch_norm_backward", &batch_norm_backward, "gy"_a, "x"_a, "weight"_a, "save_mean"_a, "save_invstd"_a,
        "training"_a, "need_dx"_a = true, "need_dweight"_a = true, "need_dbias"_a = true,
        "(gx, gweight, gbias), each None unless asked for; training: the statistics were the batch's own.");
  m.def("layer_norm_forward", &layer_norm_forward, "x"_a, "normalized_shape"_a, "weight"_a, "bias"_a, "eps"_a,
        "(y, mean, rstd) of layer norm over the trailing dimensions normalized_shape; weight/bias None or of "
        "shape normalized_shape; mean, rstd: float64, one per normalized row.");
  m.def("layer_norm_backward", &layer_norm_backward, "gy"_a, "x"_a, "normalized_shape"_a, "weight"_a, "mean"_a,
        "rstd"_a, "need_dx"_a = true, "need_dweight"_a = true, "need_dbias"_a = true,
        "(gx, gweight, gbias) of layer_norm_forward, each None unless asked for.");
  m.def("local_response_norm_forward", &lrn_forward, "x"_a, "size"_a, "alpha"_a, "beta"_a, "k"_a,
        "PyTorch's local_response_norm over dimension 1 of a C-contiguous (N, C, *) array (at least 3-D).");
  m.def("local_response_norm_backward", &lrn_backward, "gy"_a, "x"_a, "size"_a, "alpha"_a, "beta"_a, "k"_a,
        "Gradient of local_response_norm_forward with respect to x.");
}
