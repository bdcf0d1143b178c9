// pyfastnn._C.linear_forward / linear_backward / bias_act_backward: the fused linear layer.
#include <string>

#include "bindings/common.h"
#include "bindings/gemm_epilogue.h"
#include "pyfastnn/linear.h"

namespace pyfastnn {
namespace bind {
namespace {

// `obj` as a 2-D matrix of dtype T (unit stride along rows, any leading dimension).
template <class T>
MatrixArg matrix_of(const py::handle& obj, const char* op, const char* arg, const char* dtype_of) {
  const std::string want = std::string(sizeof(T) == 4 ? "a float32" : "a float64") + " numpy array (the dtype of '" +
                           dtype_of + "')";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  return matrix_arg(arr, 2, op, arg);
}

void check_shape(const MatrixArg& m, int64_t rows, int64_t cols, const char* op, const char* arg, const char* what) {
  if (m.rows != rows || m.cols != cols)
    value_error(op, std::string("argument '") + arg + "' must have shape (" + std::to_string(rows) + ", " +
                        std::to_string(cols) + ") " + what + ", got (" + std::to_string(m.rows) + ", " +
                        std::to_string(m.cols) + ")");
}

template <class T>
LinearArgs<T> linear_args(const char* op, const py::handle& x_obj, const py::handle& w_obj, const py::handle& b_obj,
                          const py::handle& act_obj) {
  const MatrixArg x = matrix_of<T>(x_obj, op, "x", "x");
  const MatrixArg w = matrix_of<T>(w_obj, op, "weight", "x");
  if (w.cols != x.cols)
    value_error(op, "argument 'weight' must have shape (out_features, " + std::to_string(x.cols) +
                        ") to match x's last dimension " + std::to_string(x.cols) + ", got (" +
                        std::to_string(w.rows) + ", " + std::to_string(w.cols) + ")");
  LinearArgs<T> a;
  a.batch = x.rows;
  a.in = x.cols;
  a.out = w.rows;
  a.x = static_cast<const T*>(x.data);
  a.ldx = x.ld;
  a.w = static_cast<const T*>(w.data);
  a.ldw = w.ld;
  a.bias = bias_arg<T>(b_obj, a.out, op);
  a.act = parse_activation(act_obj, op);
  return a;
}

template <class T>
py::array_t<T> new_matrix(int64_t rows, int64_t cols) {
  return py::array_t<T>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
}

template <class T>
py::object forward(const py::handle& x, const py::handle& w, const py::handle& b, const py::handle& act) {
  const LinearArgs<T> a = linear_args<T>("linear_forward", x, w, b, act);
  py::array_t<T> y = new_matrix<T>(a.batch, a.out);
  T* yp = y.mutable_data();
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    linear_forward(a, yp, a.out, threads);
  }
  return std::move(y);
}

template <class T>
py::object backward(const py::handle& x, const py::handle& w, const py::handle& y_obj, const py::handle& gy_obj,
                    const py::handle& act, bool need_dx, bool need_dw, bool need_db) {
  const char* op = "linear_backward";
  const LinearArgs<T> a = linear_args<T>(op, x, w, py::none(), act);
  const MatrixArg gy = matrix_of<T>(gy_obj, op, "gy", "x");
  check_shape(gy, a.batch, a.out, op, "gy", "(batch, out_features)");
  MatrixArg y;
  if (a.act != GemmActivation::none) {
    if (y_obj.is_none()) value_error(op, "argument 'y' (the forward output) is needed for the activation's gradient");
    y = matrix_of<T>(y_obj, op, "y", "x");
    check_shape(y, a.batch, a.out, op, "y", "(batch, out_features)");
  }
  py::object dx = py::none(), dw = py::none(), db = py::none();
  LinearGrads<T> g;
  if (need_dx) {
    py::array_t<T> arr = new_matrix<T>(a.batch, a.in);
    g.dx = arr.mutable_data();
    g.lddx = a.in;
    dx = std::move(arr);
  }
  if (need_dw) {
    py::array_t<T> arr = new_matrix<T>(a.out, a.in);
    g.dw = arr.mutable_data();
    g.lddw = a.in;
    dw = std::move(arr);
  }
  if (need_db) {
    py::array_t<T> arr(static_cast<py::ssize_t>(a.out));
    g.db = arr.mutable_data();
    db = std::move(arr);
  }
  const int threads = num_threads();
  {
    py::gil_scoped_release release;  // once, for the fused pass and both GEMMs
    linear_backward(a, static_cast<const T*>(y.data), y.ld, static_cast<const T*>(gy.data), gy.ld, g, threads);
  }
  return py::make_tuple(dx, dw, db);
}

template <class T>
py::object bias_act(const py::handle& y_obj, const py::handle& gy_obj, const py::handle& act_obj) {
  const char* op = "bias_act_backward";
  const GemmActivation act = parse_activation(act_obj, op);
  const MatrixArg gy = matrix_of<T>(gy_obj, op, "gy", "gy");
  MatrixArg y;
  if (act != GemmActivation::none) {
    y = matrix_of<T>(y_obj, op, "y", "gy");
    check_shape(y, gy.rows, gy.cols, op, "y", "(the shape of gy)");
  }
  py::array_t<T> gz = new_matrix<T>(gy.rows, gy.cols);
  py::array_t<T> db(static_cast<py::ssize_t>(gy.cols));
  T* gzp = gz.mutable_data();
  T* dbp = db.mutable_data();
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    if (act == GemmActivation::none) {  // gz is a copy of gy here (the layer itself uses gy in place)
      for (int64_t i = 0; i < gy.rows; ++i)
        for (int64_t j = 0; j < gy.cols; ++j) gzp[i * gy.cols + j] = static_cast<const T*>(gy.data)[i * gy.ld + j];
    }
    bias_act_backward(gy.rows, gy.cols, static_cast<const T*>(y.data), y.ld, static_cast<const T*>(gy.data), gy.ld,
                      act == GemmActivation::none ? nullptr : gzp, gy.cols, dbp, act, threads);
  }
  return py::make_tuple(gz, db);
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

PYFASTNN_BINDINGS(linear) {
  using namespace pybind11::literals;
  m.def(
      "linear_forward",
      [](const py::object& x, const py::object& weight, const py::object& bias, const py::object& activation) {
        if (is_f64(x)) return forward<double>(x, weight, bias, activation);
        if (is_f32(x)) return forward<float>(x, weight, bias, activation);
        type_error("linear_forward", "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "bias"_a = py::none(), "activation"_a = py::none(),
      "y = act(x @ weight.T + bias) as a new array: x (batch, in) and weight (out, in) row-major with unit stride "
      "along rows (any leading dimension), bias None or (out,), activation None or 'relu' (fused into the GEMM's "
      "store). float32 or float64 (x's dtype; the others must match).");
  m.def(
      "linear_backward",
      [](const py::object& x, const py::object& weight, const py::object& y, const py::object& gy,
         const py::object& activation, bool need_dx, bool need_dw, bool need_db) {
        if (is_f64(x)) return backward<double>(x, weight, y, gy, activation, need_dx, need_dw, need_db);
        if (is_f32(x)) return backward<float>(x, weight, y, gy, activation, need_dx, need_dw, need_db);
        type_error("linear_backward", "x", "a float32 or float64 numpy array", x);
      },
      "x"_a, "weight"_a, "y"_a, "gy"_a, "activation"_a = py::none(), "need_dx"_a = true, "need_dw"_a = true,
      "need_db"_a = true,
      "(dx, dw, db) of y = act(x @ weight.T + b) given gy = dL/dy: gz = gy * act'(y) and db = gz.sum(0) in one "
      "pass, then dx = gz @ weight and dw = gz.T @ x on the GEMM, with the GIL released once. y (the forward "
      "output) is read only for activation 'relu'. Gradients not asked for come back as None.");
  m.def(
      "bias_act_backward",
      [](const py::object& y, const py::object& gy, const py::object& activation) {
        if (is_f64(gy)) return bias_act<double>(y, gy, activation);
        if (is_f32(gy)) return bias_act<float>(y, gy, activation);
        type_error("bias_act_backward", "gy", "a float32 or float64 numpy array", gy);
      },
      "y"_a, "gy"_a, "activation"_a = py::none(),
      "(gz, db): gz = gy * act'(y) and db = gz.sum(0) in one pass (the fused piece of linear_backward).");
}
