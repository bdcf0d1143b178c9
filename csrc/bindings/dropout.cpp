// pyfastnn._C.dropout_forward / dropout_backward / dropout_mask: inverted dropout with a
// counter-based mask (pyfastnn/dropout.h), regenerated from the seed in the backward pass.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/dropout.h"

namespace pyfastnn {
namespace bind {
namespace {

double check_p(double p, const char* op) {
  if (!(p >= 0.0 && p <= 1.0))
    value_error(op, "dropout probability has to be between 0 and 1, but got " + std::to_string(p));
  return p;
}

// A C-contiguous float32/float64 array (any shape), or an error naming `arg`.
py::array contiguous_float(const py::handle& obj, const char* op, const char* arg) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<float>()) && !arr.dtype().is(py::dtype::of<double>()))
    type_error(op, arg, "a float32 or float64 numpy array", obj);
  if (!(arr.flags() & py::array::c_style))
    value_error(op, std::string("argument '") + arg + "' must be C-contiguous (the mask follows the flat index); "
                    "pass numpy.ascontiguousarray(" + arg + ")");
  return arr;
}

template <class T>
void run(const py::array& x, py::array& y, double p, uint64_t seed) {
  const T* xp = static_cast<const T*>(x.data());
  T* yp = static_cast<T*>(y.mutable_data());
  const int64_t n = x.size();
  const int threads = num_threads();
  py::gil_scoped_release release;
  dropout_forward(xp, yp, n, p, seed, threads);
}

py::array apply(const char* op, const char* arg, const py::object& x_obj, double p, uint64_t seed, const py::object& out) {
  check_p(p, op);
  py::array x = contiguous_float(x_obj, op, arg);
  py::array y;
  if (out.is_none()) {
    y = py::array(x.dtype(), std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  } else {
    y = contiguous_float(out, op, "out");
    if (!y.dtype().is(x.dtype()) || y.ndim() != x.ndim() ||
        !std::equal(x.shape(), x.shape() + x.ndim(), y.shape()))
      value_error(op, std::string("argument 'out' must have the dtype and shape of '") + arg + "'");
    if (!y.writeable()) value_error(op, "argument 'out' is read-only");
    // out may be x itself (in place); any other overlap would read overwritten values
    const char *xl = static_cast<const char*>(x.data()), *yl = static_cast<const char*>(y.data());
    const py::ssize_t bytes = x.nbytes();
    if (xl != yl && xl < yl + bytes && yl < xl + bytes)
      value_error(op, std::string("argument 'out' must be '") + arg + "' itself or not overlap it");
  }
  if (x.dtype().is(py::dtype::of<float>()))
    run<float>(x, y, p, seed);
  else
    run<double>(x, y, p, seed);
  return y;
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(dropout) {
  using namespace pybind11::literals;
  m.def(
      "dropout_forward",
      [](const py::object& x, double p, uint64_t seed, const py::object& out) {
        return apply("dropout_forward", "x", x, p, seed, out);
      },
      "x"_a, "p"_a, "seed"_a, "out"_a = py::none(),
      "y = x * mask / (1 - p), mask[i] a pure function of (seed, flat index i) kept with probability 1 - p "
      "(see csrc/include/pyfastnn/dropout.h). x: C-contiguous float32/float64 array of any shape; out: None (a new "
      "array), or an array of x's shape and dtype, x itself for in place.");
  m.def(
      "dropout_backward",
      [](const py::object& gy, double p, uint64_t seed, const py::object& out) {
        return apply("dropout_backward", "gy", gy, p, seed, out);
      },
      "gy"_a, "p"_a, "seed"_a, "out"_a = py::none(),
      "gx = gy * mask / (1 - p) with the mask regenerated from the forward pass's seed.");
  m.def(
      "dropout_mask",
      [](int64_t n, double p, uint64_t seed) {
        check_p(p, "dropout_mask");
        if (n < 0) value_error("dropout_mask", "argument 'n' must be >= 0, got " + std::to_string(n));
        py::array_t<uint8_t> mask(static_cast<py::ssize_t>(n));
        uint8_t* mp = mask.mutable_data();
        const int threads = num_threads();
        {
          py::gil_scoped_release release;
          pyfastnn::dropout_mask(mp, n, p, seed, threads);
        }
        return mask;
      },
      "n"_a, "p"_a, "seed"_a, "The keep mask (1 kept, 0 dropped) of the first n flat indices, as uint8.");
}
