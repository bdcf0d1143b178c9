// pyfastnn._C softmax kernels: softmax / log_softmax forward and backward over the last
// axis, and the fused softmax-cross-entropy (PyTorch's F.cross_entropy semantics).
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/softmax.h"
#include "pyfastnn/workspace.h"

namespace pyfastnn {
namespace bind {
namespace {

enum class Reduction { none, mean, sum };

// Where a kernel call runs: below two threads' worth of work (the kernels' own threshold)
// it runs inline, without querying the thread count or releasing the GIL; larger ones
// release the GIL and may use every thread.
struct KernelScope {
  int threads = 1;
  std::optional<py::gil_scoped_release> release;
  explicit KernelScope(int64_t elements) {
    if (elements >= 32768) {
      threads = num_threads();
      release.emplace();
    }
  }
};

Reduction parse_reduction(const std::string& r, const char* op) {
  if (r == "mean") return Reduction::mean;
  if (r == "sum") return Reduction::sum;
  if (r == "none") return Reduction::none;
  value_error(op, "argument 'reduction' must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// The native float32 / float64 / int64 descriptors (numpy's singletons), looked up once:
// comparing descriptor pointers is what dtype().is() does, without two reference-counted
// temporaries per check. Deliberately never released (no decref after interpreter exit).
template <class T>
PyObject* descr_of() {
  static PyObject* const d = py::dtype::of<T>().release().ptr();
  return d;
}

template <class T>
bool is_dtype(const py::array& a) {
  return py::detail::array_proxy(a.ptr())->descr == descr_of<T>();
}

template <class T>
py::dtype dtype_of() {
  return py::reinterpret_borrow<py::dtype>(descr_of<T>());
}

// A float32/float64 numpy array, or a TypeError naming op and arg.
py::array float_array(const py::handle& obj, const char* op, const char* arg) {
  if (py::isinstance<py::array>(obj)) {
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (is_dtype<float>(a) || is_dtype<double>(a)) return a;
  }
  type_error(op, arg, "a float32 or float64 numpy array", obj);
}

py::array contiguous(const py::array& a) {
  if (a.flags() & py::array::c_style) return a;
  return py::array::ensure(a, py::array::c_style);
}

// obj as an array of exactly dtype T (TypeError otherwise), C-contiguous (copied if not).
template <class T>
py::array same_dtype(const py::handle& obj, const char* op, const char* arg) {
  const char* want = sizeof(T) == 4 ? "a float32 numpy array (the dtype of the input)"
                                    : "a float64 numpy array (the dtype of the input)";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!is_dtype<T>(a)) type_error(op, arg, want, obj);
  return contiguous(a);
}

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// rows x cols of an array reduced along its last axis (a 0-d array is one element).
void rows_cols(const py::array& a, int64_t* rows, int64_t* cols) {
  *cols = a.ndim() == 0 ? 1 : a.shape(a.ndim() - 1);
  *rows = *cols == 0 ? 0 : a.size() / *cols;
}

// ---- softmax / log_softmax ----

template <class T>
py::array forward_t(const py::array& x_in, bool log) {
  py::array x = contiguous(x_in);
  int64_t rows, cols;
  rows_cols(x, &rows, &cols);
  py::array y(x.dtype(), shape_of(x));
  const T* xp = static_cast<const T*>(x.data());
  T* yp = static_cast<T*>(y.mutable_data());
  {
    KernelScope k(rows * cols);
    if (log)
      log_softmax_forward(xp, yp, rows, cols, k.threads);
    else
      softmax_forward(xp, yp, rows, cols, k.threads);
  }
  return y;
}

py::array forward(const py::object& x_obj, bool log) {
  const char* op = log ? "log_softmax_forward" : "softmax_forward";
  py::array x = float_array(x_obj, op, "x");
  return is_dtype<float>(x) ? forward_t<float>(x, log) : forward_t<double>(x, log);
}

template <class T>
py::array backward_t(const char* op, const py::array& y_in, const py::object& gy_obj, bool log) {
  py::array y = contiguous(y_in);
  py::array gy = same_dtype<T>(gy_obj, op, "gy");
  if (shape_of(gy) != shape_of(y))
    value_error(op, "'gy' must have the shape of 'y' " + shape_str(y) + ", got " + shape_str(gy));
  int64_t rows, cols;
  rows_cols(y, &rows, &cols);
  py::array gx(y.dtype(), shape_of(y));
  const T* yp = static_cast<const T*>(y.data());
  const T* gp = static_cast<const T*>(gy.data());
  T* out = static_cast<T*>(gx.mutable_data());
  {
    KernelScope k(rows * cols);
    if (log)
      log_softmax_backward(yp, gp, out, rows, cols, k.threads);
    else
      softmax_backward(yp, gp, out, rows, cols, k.threads);
  }
  return gx;
}

py::array backward(const py::object& y_obj, const py::object& gy, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  py::array y = float_array(y_obj, op, "y");
  return is_dtype<float>(y) ? backward_t<float>(op, y, gy, log)
                                             : backward_t<double>(op, y, gy, log);
}

// ---- softmax cross-entropy ----

constexpr const char* kXentOp = "cross_entropy";

// The checked arguments shared by forward and backward.
template <class T>
struct XentCall {
  XentArgs<T> args;
  Reduction reduction = Reduction::mean;
  py::array logits, target, weight, sample_weight;  // keep the (possibly copied) arrays alive
  const T* sw = nullptr;
  double denom = 1.0;  // 'mean': sum of the weights of the non-ignored targets (or N)
};

[[noreturn]] void bad_target(const py::handle& target) {
  std::string got = describe(target);
  if (py::isinstance<py::array>(target)) {
    py::array a = py::reinterpret_borrow<py::array>(target);
    got = std::string(py::str(a.dtype())) + " of shape " + shape_str(a);
  }
  throw py::type_error(std::string(kXentOp) +
                       ": target must be int64 class indices of shape (N,) or float probabilities of shape (N, C) "
                       "with the dtype of the input; got " + got);
}

template <class T>
XentCall<T> xent_prepare(const py::array& logits_in, const py::object& target_obj, const py::object& weight_obj,
                         int64_t ignore_index, double smoothing, const std::string& reduction,
                         const py::object& sw_obj) {
  XentCall<T> call;
  call.reduction = parse_reduction(reduction, kXentOp);
  if (logits_in.ndim() != 2)
    value_error(kXentOp, "input (logits) must be 2-D (N, C), got shape " + shape_str(logits_in));
  call.logits = contiguous(logits_in);
  const int64_t n = call.logits.shape(0), c = call.logits.shape(1);
  if (c == 0) value_error(kXentOp, "input (logits) must have at least one class, got shape " + shape_str(logits_in));
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    value_error(kXentOp, "label_smoothing must be in [0, 1], got " + std::to_string(smoothing));
  XentArgs<T>& a = call.args;
  a.logits = static_cast<const T*>(call.logits.data());
  a.n = n;
  a.c = c;
  a.ignore_index = ignore_index;
  a.smoothing = static_cast<T>(smoothing);

  if (!py::isinstance<py::array>(target_obj)) bad_target(target_obj);
  py::array target = py::reinterpret_borrow<py::array>(target_obj);
  const bool index = is_dtype<int64_t>(target);
  if (index) {
    if (target.ndim() != 1 || target.shape(0) != n)
      value_error(kXentOp, "class-index target must have shape (" + std::to_string(n) + ",) for input of shape " +
                               shape_str(call.logits) + ", got " + shape_str(target));
  } else if (is_dtype<T>(target) && target.ndim() == 2) {
    if (target.shape(0) != n || target.shape(1) != c)
      value_error(kXentOp, "probability target must have the input's shape " + shape_str(call.logits) + ", got " +
                               shape_str(target));
  } else {
    bad_target(target_obj);
  }
  call.target = contiguous(target);
  if (index)
    a.target = static_cast<const int64_t*>(call.target.data());
  else
    a.probs = static_cast<const T*>(call.target.data());

  if (!weight_obj.is_none()) {
    call.weight = same_dtype<T>(weight_obj, kXentOp, "weight");
    if (call.weight.ndim() != 1 || call.weight.shape(0) != c)
      value_error(kXentOp, "weight must have shape (" + std::to_string(c) + ",) (one per class), got " +
                               shape_str(call.weight));
    a.weight = static_cast<const T*>(call.weight.data());
  }
  double wsum = 0;
  for (int64_t j = 0; j < c; ++j) wsum += a.weight ? double(a.weight[j]) : 1.0;
  a.weight_sum = static_cast<T>(wsum);

  if (!sw_obj.is_none()) {
    call.sample_weight = same_dtype<T>(sw_obj, kXentOp, "sample_weight");
    if (call.sample_weight.ndim() != 1 || call.sample_weight.shape(0) != n)
      value_error(kXentOp, "sample_weight must have shape (" + std::to_string(n) + ",) (one per sample), got " +
                               shape_str(call.sample_weight));
    call.sw = static_cast<const T*>(call.sample_weight.data());
  }

  // validate the class indices (the kernels index with them) and sum the 'mean' divisor
  double denom = index ? 0.0 : double(n);
  if (index) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = a.target[i];
      if (y == ignore_index) continue;
      if (y < 0 || y >= c)
        value_error(kXentOp, "target " + std::to_string(y) + " is out of bounds for " + std::to_string(c) +
                                 " classes (expected 0 <= target < " + std::to_string(c) + " or ignore_index=" +
                                 std::to_string(ignore_index) + "), at position " + std::to_string(i));
      denom += a.weight ? double(a.weight[y]) : 1.0;
    }
  }
  call.denom = call.reduction == Reduction::mean ? denom : 1.0;
  return call;
}

template <class T>
[[noreturn]] void report_nonfinite(const XentArgs<T>& a) {
  for (int64_t i = 0; i < a.n; ++i)
    for (int64_t j = 0; j < a.c; ++j) {
      const T v = a.logits[i * a.c + j];
      if (!std::isfinite(v)) {
        const std::string what = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
        value_error(kXentOp, "input (logits) contains " + what + " at [" + std::to_string(i) + ", " +
                                 std::to_string(j) + "]: the loss is not finite (the model's outputs diverged?)");
      }
    }
  throw std::logic_error("report_nonfinite: no non-finite logit");
}

template <class T>
py::tuple xent_forward_t(const py::array& logits, const py::object& target, const py::object& weight,
                         int64_t ignore_index, double smoothing, const std::string& reduction,
                         const py::object& sample_weight) {
  XentCall<T> call = xent_prepare<T>(logits, target, weight, ignore_index, smoothing, reduction, sample_weight);
  const XentArgs<T>& a = call.args;
  const int64_t n = a.n;
  py::array stats(dtype_of<T>(), std::vector<py::ssize_t>{kXentStats, n});
  py::array per_row;
  T* row_loss;
  if (call.reduction == Reduction::none) {
    per_row = py::array(dtype_of<T>(), std::vector<py::ssize_t>{n});
    row_loss = static_cast<T*>(per_row.mutable_data());
  } else {
    row_loss = thread_workspace_as<T>(WorkspaceSlot::scratch, static_cast<std::size_t>(n));
  }
  double total = 0;
  {
    KernelScope k(n * a.c);
    softmax_xent_forward(a, row_loss, static_cast<T*>(stats.mutable_data()), k.threads);
    if (call.sw)
      for (int64_t i = 0; i < n; ++i) row_loss[i] *= call.sw[i];
    for (int64_t i = 0; i < n; ++i) total += double(row_loss[i]);
  }
  if (!std::isfinite(total)) {
    bool finite_logits = true;
    const int64_t size = n * a.c;
    for (int64_t k = 0; k < size && finite_logits; ++k) finite_logits = std::isfinite(a.logits[k]);
    if (!finite_logits) report_nonfinite(a);
  }
  py::object loss;
  if (call.reduction == Reduction::none) {
    loss = per_row;
  } else {
    const double value = call.reduction == Reduction::mean ? total / call.denom : total;  // 0/0: NaN, as PyTorch
    py::array out(dtype_of<T>(), std::vector<py::ssize_t>{});
    *static_cast<T*>(out.mutable_data()) = static_cast<T>(value);
    loss = out;
  }
  return py::make_tuple(loss, stats);
}

template <class T>
py::array xent_backward_t(const py::array& logits, const py::object& target, const py::object& state,
                          const py::object& grad_loss, const py::object& weight, int64_t ignore_index,
                          double smoothing, const std::string& reduction, const py::object& sample_weight) {
  XentCall<T> call = xent_prepare<T>(logits, target, weight, ignore_index, smoothing, reduction, sample_weight);
  const XentArgs<T>& a = call.args;
  const int64_t n = a.n;
  // the state softmax_xent_forward returned for these arguments; the 'mean' divisor is
  // recomputed by xent_prepare along with the target check
  py::array stats = same_dtype<T>(state, kXentOp, "state");
  if (stats.ndim() != 2 || stats.shape(0) != kXentStats || stats.shape(1) != n)
    value_error(kXentOp, "state must have shape (" + std::to_string(kXentStats) + ", " + std::to_string(n) +
                             ") (from softmax_xent_forward), got " + shape_str(stats));
  const double denom = call.denom;

  T scale = T(1);
  std::vector<T> row_buf;
  py::array g_rows;
  const T* row_scale = call.sw;
  if (call.reduction == Reduction::none) {
    g_rows = same_dtype<T>(grad_loss, kXentOp, "grad_loss");
    if (g_rows.ndim() != 1 || g_rows.shape(0) != n)
      value_error(kXentOp, "grad_loss must have shape (" + std::to_string(n) + ",) with reduction='none', got " +
                               shape_str(g_rows));
    const T* g = static_cast<const T*>(g_rows.data());
    if (call.sw) {
      row_buf.resize(n);
      for (int64_t i = 0; i < n; ++i) row_buf[i] = g[i] * call.sw[i];
      row_scale = row_buf.data();
    } else {
      row_scale = g;
    }
  } else {
    double g;
    if (py::isinstance<py::array>(grad_loss) && is_dtype<T>(py::reinterpret_borrow<py::array>(grad_loss)) &&
        py::reinterpret_borrow<py::array>(grad_loss).size() == 1)
      g = double(*static_cast<const T*>(py::reinterpret_borrow<py::array>(grad_loss).data()));  // the usual 0-d case
    else
      g = py::float_(grad_loss).cast<double>();
    // every target ignored (or weighted 0): the mean is NaN, its gradient is taken as 0
    scale = call.reduction == Reduction::mean ? (denom != 0.0 ? static_cast<T>(g / denom) : T(0)) : static_cast<T>(g);
  }
  py::array dlogits(dtype_of<T>(), std::vector<py::ssize_t>{n, a.c});
  {
    KernelScope k(n * a.c);
    softmax_xent_backward(a, static_cast<const T*>(stats.data()), scale, row_scale,
                          static_cast<T*>(dlogits.mutable_data()), k.threads);
  }
  return dlogits;
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(softmax) {
  using namespace pybind11::literals;
  m.def(
      "softmax_forward", [](const py::object& x) { return forward(x, false); }, "x"_a,
      "softmax along the last axis of a float32/float64 array (a new array).");
  m.def(
      "softmax_backward", [](const py::object& y, const py::object& gy) { return backward(y, gy, false); }, "y"_a,
      "gy"_a, "Gradient of softmax from its output y: y * (gy - sum(gy * y, -1)).");
  m.def(
      "log_softmax_forward", [](const py::object& x) { return forward(x, true); }, "x"_a,
      "log_softmax along the last axis of a float32/float64 array (a new array).");
  m.def(
      "log_softmax_backward", [](const py::object& y, const py::object& gy) { return backward(y, gy, true); },
      "y"_a, "gy"_a, "Gradient of log_softmax from its output y: gy - exp(y) * sum(gy, -1).");
  m.def(
      "softmax_xent_forward",
      [](const py::object& logits, const py::object& target, const py::object& weight, int64_t ignore_index,
         double label_smoothing, const std::string& reduction, const py::object& sample_weight) -> py::tuple {
        py::array x = float_array(logits, kXentOp, "input");
        if (is_dtype<float>(x))
          return xent_forward_t<float>(x, target, weight, ignore_index, label_smoothing, reduction, sample_weight);
        return xent_forward_t<double>(x, target, weight, ignore_index, label_smoothing, reduction, sample_weight);
      },
      "logits"_a, "target"_a, "weight"_a = py::none(), "ignore_index"_a = -100, "label_smoothing"_a = 0.0,
      "reduction"_a = "mean", "sample_weight"_a = py::none(),
      "Fused softmax cross-entropy (F.cross_entropy semantics) of logits (N, C) against int64 class indices (N,) "
      "or probabilities (N, C). Returns (loss, state): loss is 0-d ('mean', 'sum') or (N,) ('none'); state is "
      "(3, N): per row the max, the log-sum-exp remainder and the total target weight, for the backward.");
  m.def(
      "softmax_xent_backward",
      [](const py::object& logits, const py::object& target, const py::object& state, const py::object& grad_loss,
         const py::object& weight, int64_t ignore_index, double label_smoothing, const std::string& reduction,
         const py::object& sample_weight) -> py::array {
        py::array x = float_array(logits, kXentOp, "input");
        if (is_dtype<float>(x))
          return xent_backward_t<float>(x, target, state, grad_loss, weight, ignore_index, label_smoothing,
                                        reduction, sample_weight);
        return xent_backward_t<double>(x, target, state, grad_loss, weight, ignore_index, label_smoothing,
                                       reduction, sample_weight);
      },
      "logits"_a, "target"_a, "state"_a, "grad_loss"_a, "weight"_a = py::none(), "ignore_index"_a = -100,
      "label_smoothing"_a = 0.0, "reduction"_a = "mean", "sample_weight"_a = py::none(),
      "dlogits of softmax_xent_forward: scale_i * (softmax * S_i - smoothed weighted target), one pass per row.");
}
