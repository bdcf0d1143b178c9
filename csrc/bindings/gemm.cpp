// pyfastnn._C.gemm / gemm_strided_batched: C = act(alpha * op(A) @ op(B) + beta * C + bias)
// in place.
#include "bindings/common.h"
#include "bindings/gemm_epilogue.h"
#include "pyfastnn/gemm.h"

namespace pyfastnn {
namespace bind {
namespace {

struct Span {
  const char* lo;
  const char* hi;
};

// The bytes a (batched) matrix view can touch, for the overlap check between C and A/B.
Span span_of(const MatrixArg& m, std::size_t item) {
  const char* base = static_cast<const char*>(m.data);
  if (m.rows == 0 || m.cols == 0 || m.batch == 0) return {base, base};
  const int64_t last = (m.batch - 1) * m.batch_stride + (m.rows - 1) * m.ld + (m.cols - 1);
  return {base, base + (last + 1) * item};
}

bool overlaps(Span x, Span y) { return x.lo < y.hi && y.lo < x.hi; }

template <class T>
void gemm_checked(const char* op, int ndim, const py::handle& a_obj, const py::handle& b_obj, const py::handle& c_obj,
                  double alpha, double beta, bool trans_a, bool trans_b, const py::handle& bias_obj,
                  const py::handle& act_obj) {
  const GemmActivation act = parse_activation(act_obj, op);
  py::array a_arr = as_array<T>(a_obj, op, "a");
  py::array b_arr = as_array<T>(b_obj, op, "b");
  py::array c_arr = as_array<T>(c_obj, op, "c");
  if (!c_arr.writeable()) value_error(op, "argument 'c' is read-only");
  MatrixArg a = matrix_arg(a_arr, ndim, op, "a");
  MatrixArg b = matrix_arg(b_arr, ndim, op, "b");
  MatrixArg c = matrix_arg(c_arr, ndim, op, "c");

  const int64_t m = trans_a ? a.cols : a.rows, ka = trans_a ? a.rows : a.cols;
  const int64_t kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
  auto dims = [](const char* name, bool t, const MatrixArg& x) {
    return std::string(name) + (t ? ".T" : "") + " is " + std::to_string(t ? x.cols : x.rows) + "x" +
           std::to_string(t ? x.rows : x.cols);
  };
  if (ka != kb)
    value_error(op, "inner dimensions differ: op(a) = " + dims("a", trans_a, a) + ", op(b) = " +
                        dims("b", trans_b, b) + "; op(a) must be m x k and op(b) k x n");
  if (c.rows != m || c.cols != n)
    value_error(op, "argument 'c' must be " + std::to_string(m) + "x" + std::to_string(n) +
                        " (rows of op(a) x columns of op(b)), got " + std::to_string(c.rows) + "x" +
                        std::to_string(c.cols));
  if (ndim == 3 && (a.batch != c.batch || b.batch != c.batch))
    value_error(op, "batch sizes differ: a has " + std::to_string(a.batch) + ", b has " + std::to_string(b.batch) +
                        ", c has " + std::to_string(c.batch) + " (broadcast a or b to c's batch first)");
  if (c.rows > 1 && c.ld < c.cols) value_error(op, "argument 'c' has overlapping rows");
  if (c.batch > 1 && c.batch_stride < (c.rows - 1) * c.ld + c.cols)
    value_error(op, "argument 'c' has overlapping batch items");
  if (overlaps(span_of(c, sizeof(T)), span_of(a, sizeof(T))) || overlaps(span_of(c, sizeof(T)), span_of(b, sizeof(T))))
    value_error(op, "argument 'c' must not share memory with 'a' or 'b'");
  const T* bias = bias_arg<T>(bias_obj, n, op);
  if (bias && overlaps(span_of(c, sizeof(T)), Span{reinterpret_cast<const char*>(bias),
                                                     reinterpret_cast<const char*>(bias + n)}))
    value_error(op, "argument 'c' must not share memory with 'bias'");

  GemmArgs<T> g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = ka;
  g.alpha = static_cast<T>(alpha);
  g.a = static_cast<const T*>(a.data);
  g.lda = a.ld;
  g.b = static_cast<const T*>(b.data);
  g.ldb = b.ld;
  g.beta = static_cast<T>(beta);
  g.c = static_cast<T*>(c.data);
  g.ldc = c.ld;
  g.bias = bias;
  g.act = act;
  const int threads = num_threads();
  py::gil_scoped_release release;
  if (ndim == 2) {
    gemm(g, threads);
  } else {
    GemmBatch batch;
    batch.count = c.batch;
    batch.stride_a = a.batch_stride;
    batch.stride_b = b.batch_stride;
    batch.stride_c = c.batch_stride;
    gemm_strided_batched(g, batch, threads);
  }
}

void gemm_any(const char* op, int ndim, const py::object& a, const py::object& b, const py::object& c, double alpha,
              double beta, bool trans_a, bool trans_b, const py::object& bias, const py::object& act) {
  // a's dtype picks sgemm or dgemm; b and c must match it (no silent conversions)
  if (py::isinstance<py::array>(a) && py::reinterpret_borrow<py::array>(a).dtype().is(py::dtype::of<double>()))
    gemm_checked<double>(op, ndim, a, b, c, alpha, beta, trans_a, trans_b, bias, act);
  else if (py::isinstance<py::array>(a) && py::reinterpret_borrow<py::array>(a).dtype().is(py::dtype::of<float>()))
    gemm_checked<float>(op, ndim, a, b, c, alpha, beta, trans_a, trans_b, bias, act);
  else
    type_error(op, "a", "a float32 or float64 numpy array", a);
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(gemm) {
  using namespace pybind11::literals;
  m.def(
      "gemm",
      [](const py::object& a, const py::object& b, const py::object& c, double alpha, double beta, bool trans_a,
         bool trans_b, const py::object& bias, const py::object& activation) {
        gemm_any("gemm", 2, a, b, c, alpha, beta, trans_a, trans_b, bias, activation);
      },
      "a"_a, "b"_a, "c"_a, "alpha"_a = 1.0, "beta"_a = 0.0, "trans_a"_a = false, "trans_b"_a = false,
      py::kw_only(), "bias"_a = py::none(), "activation"_a = py::none(),
      "c = act(alpha * op(a) @ op(b) + beta * c + bias) in place. a, b, c: 2-D float32 (sgemm) or float64 (dgemm) "
      "arrays, row-major with unit stride along the last dimension and any leading dimension; op(x) = x.T when "
      "trans_x. Epilogue, fused into the kernel's store: bias (None or a contiguous 1-D array of c's dtype with one "
      "value per column of c) and activation (None or 'relu').");
  m.def(
      "gemm_strided_batched",
      [](const py::object& a, const py::object& b, const py::object& c, double alpha, double beta, bool trans_a,
         bool trans_b, const py::object& bias, const py::object& activation) {
        gemm_any("gemm_strided_batched", 3, a, b, c, alpha, beta, trans_a, trans_b, bias, activation);
      },
      "a"_a, "b"_a, "c"_a, "alpha"_a = 1.0, "beta"_a = 0.0, "trans_a"_a = false, "trans_b"_a = false,
      py::kw_only(), "bias"_a = py::none(), "activation"_a = py::none(),
      "gemm over the leading (batch) dimension of 3-D arrays; a or b may have batch stride 0 (numpy.broadcast_to); "
      "the same bias (one value per column) and activation apply to every item.");
}
